//go:build !linux

package swap

import (
	"context"

	"github.com/shirou/gopsutil/v4/mem"
)

// hostReader reads swap figures with gopsutil.
type hostReader struct{}

func (hostReader) Read(ctx context.Context) (Stats, error) {
	s, err := mem.SwapMemoryWithContext(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{TotalBytes: s.Total, UsedBytes: s.Used}, nil
}
