// Package uptime is the agent module that reports how long the host has
// been running since boot.
package uptime

import (
	"context"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module name requests use.
const Name = "uptime"

// Reader reads the time since boot from the operating system.
type Reader = module.Reader[time.Duration]

// Module reports uptime.
type Module = module.Reading

// New returns the module reading the host: /proc on Linux, gopsutil elsewhere.
func New() Module { return NewWithReader(hostReader{}) }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module {
	return module.NewReading(Name, "uptime", func(ctx context.Context) ([]protocol.Metric, error) {
		s, err := r.Read(ctx)
		if err != nil {
			return nil, err
		}
		return toMetrics(s)
	})
}

// toMetrics turns the time since boot into the module's metric.
func toMetrics(d time.Duration) ([]protocol.Metric, error) {
	if d < 0 {
		return nil, fmt.Errorf("the system reported a negative uptime (%v)", d)
	}
	return []protocol.Metric{
		module.Value(metrics.UptimeSeconds, d.Seconds()),
	}, nil
}

// BootTime is when the host booted, to the second, from its uptime at
// now. Two calls a round apart may differ by a second or two.
func BootTime(ctx context.Context, now time.Time) (time.Time, error) {
	d, err := hostReader{}.Read(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(-d).Truncate(time.Second).UTC(), nil
}
