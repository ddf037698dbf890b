// Package module defines what a built-in agent module is: something that
// measures one aspect of the host and returns metrics.
package module

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// DefaultCPUSample is the CPU sampling window used when a request names none.
const DefaultCPUSample = time.Second

// Config carries the per-request settings a module may need.
type Config struct {
	// CPUSample is the window over which CPU usage is measured. Zero or
	// negative means DefaultCPUSample.
	CPUSample time.Duration
	// Settings are the module's own settings from Request.ModuleConfig,
	// nil when the request has none for it.
	Settings json.RawMessage
}

// CPUSampleOrDefault returns c.CPUSample, or DefaultCPUSample when unset.
func (c Config) CPUSampleOrDefault() time.Duration {
	if c.CPUSample <= 0 {
		return DefaultCPUSample
	}
	return c.CPUSample
}

// Module is one built-in measurement of the agent.
type Module interface {
	// Name is the module's name as requests spell it ("cpu", "memory", ...).
	Name() string
	// Collect measures the host. It must return when ctx is done.
	Collect(ctx context.Context, cfg Config) ([]protocol.Metric, error)
}

// EventModule is a Module that reads log records incrementally. The agent
// calls CollectEvents instead of Collect for it.
type EventModule interface {
	Module
	// CollectEvents returns the records after cursor (the opaque text it
	// returned last round; "" on the first round), metrics about the read
	// (counts of records left out; nil for none) and the cursor for the
	// next round. It must return when ctx is done.
	CollectEvents(ctx context.Context, cfg Config, cursor string) (events []protocol.Event, metrics []protocol.Metric, next string, err error)
}

// PartialError is what Collect returns, beside the metrics it could
// measure, when part of what it measures failed (a file system that did
// not answer in time): the report keeps the metrics and says what failed
// in the module's error.
type PartialError struct{ Err error }

func (e PartialError) Error() string { return e.Err.Error() }
func (e PartialError) Unwrap() error { return e.Err }

// ClampPercent bounds a percentage reported by the operating system to
// 0..100; rounding in the kernel's counters can stray slightly outside.
func ClampPercent(p float64) float64 {
	switch {
	case p < 0:
		return 0
	case p > 100:
		return 100
	}
	return p
}

// Value is the metric name, in the unit the table of built-in metrics
// (sdk/metrics) declares for it, with value v.
func Value(name string, v float64) protocol.Metric {
	unit, _ := metrics.Unit(name)
	return protocol.Metric{Name: name, Value: v, Unit: unit}
}

// LabelledValue is Value for one of the samples of a metric that has
// several per host (one per mount point, per interface), told apart by
// labels.
func LabelledValue(name string, v float64, labels map[string]string) protocol.Metric {
	m := Value(name, v)
	m.Labels = labels
	return m
}

// CounterTotal is the running total of the counter metric name (see
// protocol.Metric.Counter): the core stores its rate per second.
func CounterTotal(name string, total uint64, labels map[string]string) protocol.Metric {
	m := LabelledValue(name, float64(total), labels)
	m.Counter = true
	return m
}

// Reader reads one snapshot S of the host's figures from the operating
// system (memory, swap, uptime, load averages).
type Reader[S any] interface {
	Read(ctx context.Context) (S, error)
}

// Reading is a module that reads one snapshot of the host's figures
// through a Reader and turns it into metrics: the modules built on it
// differ only in name and in collect. It is not generic on purpose: the
// generic version cost the agent about 7 KB of type data.
type Reading struct {
	name    string
	what    string
	collect func(context.Context) ([]protocol.Metric, error)
}

var _ Module = Reading{}

// NewReading returns the module name whose Collect calls collect and
// prefixes its errors with "read <what>: ".
func NewReading(name, what string, collect func(context.Context) ([]protocol.Metric, error)) Reading {
	return Reading{name: name, what: what, collect: collect}
}

// Name returns the module's name.
func (m Reading) Name() string { return m.name }

// Collect reads one snapshot and returns its metrics.
func (m Reading) Collect(ctx context.Context, _ Config) ([]protocol.Metric, error) {
	out, err := m.collect(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.what, err)
	}
	return out, nil
}

// DecodeSettings decodes a module's settings raw into v, strictly: nil or
// "null" leaves v as it is (the defaults), an unknown key or a second JSON
// value is an error naming the module and its keys, so a misspelt setting
// is not silently ignored.
func DecodeSettings(raw json.RawMessage, module, keys string, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s settings are not valid (keys: %s): %w", module, keys, err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s settings are not valid: more than one JSON value", module)
	}
	return nil
}
