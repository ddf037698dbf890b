package cpu

import (
	"context"
	"errors"
	"time"

	gocpu "github.com/shirou/gopsutil/v4/cpu"
)

// gopsutilSampler reads CPU figures with gopsutil.
type gopsutilSampler struct{}

func (gopsutilSampler) BusyPercent(ctx context.Context, window time.Duration) (float64, error) {
	all, err := gocpu.PercentWithContext(ctx, window, false)
	if err != nil {
		return 0, err
	}
	if len(all) != 1 {
		return 0, errors.New("gopsutil returned no combined cpu figure")
	}
	return all[0], nil
}

// LogicalCount counts the online logical CPUs: from the kernel's list of
// online CPUs where there is one (Linux's sysfs: a few bytes, where
// /proc/cpuinfo, which gopsutil reads, is kilobytes per CPU and slow to
// make on large hosts), else with gopsutil.
func (gopsutilSampler) LogicalCount(ctx context.Context) (int, error) {
	if n, err := onlineCPUs(); err == nil && n > 0 {
		return n, nil
	}
	return gocpu.CountsWithContext(ctx, true)
}
