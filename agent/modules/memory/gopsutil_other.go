//go:build !linux

package memory

import (
	"context"
	"time"

	"github.com/shirou/gopsutil/v4/mem"
)

// hostReader reads memory figures with gopsutil.
type hostReader struct{}

// zeroRetries is how often a read that reports no memory at all is tried
// again: Wine's GlobalMemoryStatusEx has been seen to answer zeros while
// the machine is busy starting processes, and a second read a moment
// later gives the figures.
const zeroRetries = 2

func (hostReader) Read(ctx context.Context) (Stats, error) {
	var v *mem.VirtualMemoryStat
	var err error
	for try := 0; ; try++ {
		v, err = mem.VirtualMemoryWithContext(ctx)
		if err != nil {
			return Stats{}, err
		}
		if v.Total > 0 || try == zeroRetries || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return Stats{
		TotalBytes:     v.Total,
		UsedBytes:      v.Used,
		AvailableBytes: v.Available,
		UsedPercent:    v.UsedPercent,
	}, nil
}
