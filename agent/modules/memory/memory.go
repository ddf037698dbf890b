// Package memory is the agent module that measures physical memory use.
package memory

import (
	"context"
	"errors"
	"fmt"

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
type Reader interface {
	VirtualMemory(ctx context.Context) (Stats, error)
}

// Module measures physical memory.
type Module struct {
	reader Reader
}

// New returns the module reading the host through gopsutil.
func New() Module { return Module{reader: gopsutilReader{}} }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module { return Module{reader: r} }

// Name returns "memory".
func (Module) Name() string { return Name }

// Collect reads memory use.
func (m Module) Collect(ctx context.Context, _ module.Config) ([]protocol.Metric, error) {
	s, err := m.reader.VirtualMemory(ctx)
	if err != nil {
		return nil, fmt.Errorf("read memory statistics: %w", err)
	}
	if s.TotalBytes == 0 {
		return nil, errors.New("read memory statistics: the system reported zero total memory")
	}
	return []protocol.Metric{
		module.Value(metrics.MemoryUsedPercent, module.ClampPercent(s.UsedPercent)),
		module.Value(metrics.MemoryTotalBytes, float64(s.TotalBytes)),
		module.Value(metrics.MemoryUsedBytes, float64(s.UsedBytes)),
		module.Value(metrics.MemoryAvailBytes, float64(s.AvailableBytes)),
	}, nil
}
