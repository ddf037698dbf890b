// Package cpu is the agent module that measures CPU usage and counts
// logical CPUs.
package cpu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module name requests use.
const Name = "cpu"

// Sampler reads CPU figures from the operating system.
type Sampler interface {
	// BusyPercent returns the share of time all CPUs together were busy
	// during window, 0..100. It blocks for window.
	BusyPercent(ctx context.Context, window time.Duration) (float64, error)
	// LogicalCount returns the number of logical CPUs.
	LogicalCount(ctx context.Context) (int, error)
}

// Module measures CPU usage.
type Module struct {
	sampler Sampler
}

// New returns the module reading the host: /proc on Linux, gopsutil elsewhere.
func New() Module { return Module{sampler: hostSampler{}} }

// NewWithSampler returns the module reading through s (tests pass fakes).
func NewWithSampler(s Sampler) Module { return Module{sampler: s} }

// Name returns "cpu".
func (Module) Name() string { return Name }

// Collect samples CPU usage over cfg's CPU window and counts CPUs.
func (m Module) Collect(ctx context.Context, cfg module.Config) ([]protocol.Metric, error) {
	count, err := m.sampler.LogicalCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("count logical cpus: %w", err)
	}
	if count <= 0 {
		return nil, errors.New("count logical cpus: the system reported none")
	}
	window := cfg.CPUSampleOrDefault()
	busy, err := m.sampler.BusyPercent(ctx, window)
	if err != nil {
		return nil, fmt.Errorf("sample cpu usage over %v: %w", window, err)
	}
	return []protocol.Metric{
		module.Value(metrics.CPUPercent, module.ClampPercent(busy)),
		module.Value(metrics.CPUCount, float64(count)),
	}, nil
}
