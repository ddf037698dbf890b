//go:build !linux

package memory

import (
	"context"

	"github.com/shirou/gopsutil/v4/mem"
)

// hostReader reads memory figures with gopsutil.
type hostReader struct{}

func (hostReader) Read(ctx context.Context) (Stats, error) {
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{
		TotalBytes:     v.Total,
		UsedBytes:      v.Used,
		AvailableBytes: v.Available,
		UsedPercent:    v.UsedPercent,
	}, nil
}
