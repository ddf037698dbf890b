//go:build !linux

package cpu

import (
	"context"
	"errors"
	"time"

	gocpu "github.com/shirou/gopsutil/v4/cpu"
)

// hostSampler reads CPU figures with gopsutil.
type hostSampler struct{}

func (hostSampler) BusyPercent(ctx context.Context, window time.Duration) (float64, error) {
	all, err := gocpu.PercentWithContext(ctx, window, false)
	if err != nil {
		return 0, err
	}
	if len(all) != 1 {
		return 0, errors.New("gopsutil returned no combined cpu figure")
	}
	return all[0], nil
}

// LogicalCount counts the logical CPUs with gopsutil.
func (hostSampler) LogicalCount(ctx context.Context) (int, error) {
	return gocpu.CountsWithContext(ctx, true)
}
