// Package memory is the agent module that measures physical memory use.
package memory

import (
	"context"
	"errors"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module name requests use.
const Name = "memory"

// Stats is a snapshot of physical memory.
type Stats struct {
	TotalBytes     uint64
	UsedBytes      uint64
	AvailableBytes uint64
	// UsedPercent is the share of memory not available to new work, 0..100,
	// as the operating system accounts it (on Linux: (total-available)/total).
	UsedPercent float64
}

// Reader reads memory figures from the operating system.
type Reader = module.Reader[Stats]

// Module measures physical memory.
type Module = module.Reading

// New returns the module reading the host: /proc on Linux, gopsutil elsewhere.
func New() Module { return NewWithReader(hostReader{}) }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module {
	return module.NewReading(Name, "memory statistics", func(ctx context.Context) ([]protocol.Metric, error) {
		s, err := r.Read(ctx)
		if err != nil {
			return nil, err
		}
		return toMetrics(s)
	})
}

// toMetrics turns a snapshot into the module's metrics.
func toMetrics(s Stats) ([]protocol.Metric, error) {
	if s.TotalBytes == 0 {
		return nil, errors.New("the system reported zero total memory")
	}
	return []protocol.Metric{
		module.Value(metrics.MemoryUsedPercent, module.ClampPercent(s.UsedPercent)),
		module.Value(metrics.MemoryTotalBytes, float64(s.TotalBytes)),
		module.Value(metrics.MemoryUsedBytes, float64(s.UsedBytes)),
		module.Value(metrics.MemoryAvailBytes, float64(s.AvailableBytes)),
	}, nil
}
