// Package swap is the agent module that measures swap (page file) use.
package swap

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module name requests use.
const Name = "swap"

// Stats is a snapshot of swap space.
type Stats struct {
	TotalBytes uint64
	UsedBytes  uint64
}

// Reader reads swap figures from the operating system.
type Reader interface {
	Swap(ctx context.Context) (Stats, error)
}

// Module measures swap use.
type Module struct {
	reader Reader
}

// New returns the module reading the host through gopsutil.
func New() Module { return Module{reader: gopsutilReader{}} }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module { return Module{reader: r} }

// Name returns "swap".
func (Module) Name() string { return Name }

// Collect reads swap use. A host without swap reports a total of 0 and a
// used percentage of 0.
func (m Module) Collect(ctx context.Context, _ module.Config) ([]protocol.Metric, error) {
	s, err := m.reader.Swap(ctx)
	if err != nil {
		return nil, fmt.Errorf("read swap statistics: %w", err)
	}
	used := min(s.UsedBytes, s.TotalBytes)
	percent := 0.0
	if s.TotalBytes > 0 {
		percent = float64(used) / float64(s.TotalBytes) * 100
	}
	return []protocol.Metric{
		module.Value(metrics.SwapUsedPercent, percent),
		module.Value(metrics.SwapTotalBytes, float64(s.TotalBytes)),
		module.Value(metrics.SwapUsedBytes, float64(used)),
	}, nil
}
