// Package load is the agent module that reports the 1, 5 and 15 minute
// load averages. Only operating systems with load averages (Linux, macOS)
// list it among their built-in modules.
package load

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module name requests use.
const Name = "load"

// Averages are the run-queue load averages.
type Averages struct {
	One, Five, Fifteen float64
}

// Reader reads load averages from the operating system.
type Reader = module.Reader[Averages]

// Module reports load averages.
type Module = module.Reading

// New returns the module reading the host: /proc on Linux, gopsutil elsewhere.
func New() Module { return NewWithReader(hostReader{}) }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module {
	return module.NewReading(Name, "load averages", func(ctx context.Context) ([]protocol.Metric, error) {
		s, err := r.Read(ctx)
		if err != nil {
			return nil, err
		}
		return toMetrics(s)
	})
}

// toMetrics turns the load averages into the module's metrics.
func toMetrics(a Averages) ([]protocol.Metric, error) {
	if a.One < 0 || a.Five < 0 || a.Fifteen < 0 {
		return nil, fmt.Errorf("the system reported a negative value (%v %v %v)", a.One, a.Five, a.Fifteen)
	}
	return []protocol.Metric{
		module.Value(metrics.Load1, a.One),
		module.Value(metrics.Load5, a.Five),
		module.Value(metrics.Load15, a.Fifteen),
	}, nil
}
