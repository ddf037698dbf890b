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
type Reader interface {
	Uptime(ctx context.Context) (time.Duration, error)
}

// Module reports uptime.
type Module struct {
	reader Reader
}

// New returns the module reading the host through gopsutil.
func New() Module { return Module{reader: gopsutilReader{}} }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module { return Module{reader: r} }

// Name returns "uptime".
func (Module) Name() string { return Name }

// Collect reads the uptime.
func (m Module) Collect(ctx context.Context, _ module.Config) ([]protocol.Metric, error) {
	d, err := m.reader.Uptime(ctx)
	if err != nil {
		return nil, fmt.Errorf("read uptime: %w", err)
	}
	if d < 0 {
		return nil, fmt.Errorf("read uptime: the system reported a negative uptime (%v)", d)
	}
	return []protocol.Metric{
		module.Value(metrics.UptimeSeconds, d.Seconds()),
	}, nil
}
