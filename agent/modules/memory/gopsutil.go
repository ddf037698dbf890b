package memory

import (
	"context"

	"github.com/shirou/gopsutil/v4/mem"
)

// gopsutilReader reads memory figures with gopsutil.
type gopsutilReader struct{}

func (gopsutilReader) Read(ctx context.Context) (Stats, error) {
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
