//go:build !linux

package load

import (
	"context"

	goload "github.com/shirou/gopsutil/v4/load"
)

// hostReader reads load averages with gopsutil.
type hostReader struct{}

func (hostReader) Read(ctx context.Context) (Averages, error) {
	a, err := goload.AvgWithContext(ctx)
	if err != nil {
		return Averages{}, err
	}
	return Averages{One: a.Load1, Five: a.Load5, Fifteen: a.Load15}, nil
}
