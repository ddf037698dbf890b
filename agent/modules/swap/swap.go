// Package swap is the agent module that measures swap (page file) use.
package swap

import (
	"context"

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
type Reader = module.Reader[Stats]

// Module measures swap use.
type Module = module.Reading

// New returns the module reading the host: /proc on Linux, gopsutil elsewhere.
func New() Module { return NewWithReader(hostReader{}) }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module {
	return module.NewReading(Name, "swap statistics", func(ctx context.Context) ([]protocol.Metric, error) {
		s, err := r.Read(ctx)
		if err != nil {
			return nil, err
		}
		return toMetrics(s)
	})
}

// toMetrics turns a snapshot into the module's metrics. A host without
// swap reports a total of 0 and a used percentage of 0.
func toMetrics(s Stats) ([]protocol.Metric, error) {
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
