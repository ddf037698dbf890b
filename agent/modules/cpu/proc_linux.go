package cpu

import (
	"context"
	"time"

	"github.com/cscs-dev/cscs/agent/internal/procfs"
)

// hostSampler reads CPU figures from /proc/stat.
type hostSampler struct{}

// BusyPercent reads /proc/stat's "cpu" line before and after window.
func (hostSampler) BusyPercent(ctx context.Context, window time.Duration) (float64, error) {
	before, err := procfs.Read(procfs.StatPath, procfs.ParseStat)
	if err != nil {
		return 0, err
	}
	timer := time.NewTimer(window)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-timer.C:
	}
	after, err := procfs.Read(procfs.StatPath, procfs.ParseStat)
	if err != nil {
		return 0, err
	}
	return procfs.BusyPercent(before.All, after.All), nil
}

// LogicalCount counts the online logical CPUs: from the kernel's list of
// online CPUs (sysfs: a few bytes, where /proc/cpuinfo is kilobytes per
// CPU and slow to make on large hosts), else from the "cpuN" lines of
// /proc/stat, which lists the online CPUs too.
func (hostSampler) LogicalCount(context.Context) (int, error) {
	if n, err := onlineCPUs(); err == nil && n > 0 {
		return n, nil
	}
	s, err := procfs.Read(procfs.StatPath, procfs.ParseStat)
	return s.CPUs, err
}
