package swap

import (
	"context"

	"github.com/shirou/gopsutil/v4/mem"
)

// gopsutilReader reads swap figures with gopsutil.
type gopsutilReader struct{}

func (gopsutilReader) Read(ctx context.Context) (Stats, error) {
	s, err := mem.SwapMemoryWithContext(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{TotalBytes: s.Total, UsedBytes: s.Used}, nil
}
