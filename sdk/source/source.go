// Package source is the contract of a metric source plugin: it describes
// the metrics (and events) it yields and supplies, per platform, the remote
// module that measures them — either a module built into the CSCS agent or
// an artifact (program or script) that the core ships beside the agent and
// the agent runs through the exec protocol of package agentmod.
//
// This package is part of the public SDK and imports nothing of CSCS.
package source

import (
	"context"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// Description is what a source says about itself. The core asks once per
// round, not per host.
type Description struct {
	// Name is lower_snake_case and unique among sources ("cpu", "users").
	Name    string
	Version string
	// Platforms are "os/arch" pairs the source supports; "os/*" and "*/*"
	// are wildcards. Empty means every platform.
	Platforms []string
	// Metrics lists every metric the source yields.
	Metrics []MetricInfo
	// AlertTypes are the <alert type> names this source understands, e.g.
	// "memory" for memory.used_percent.
	AlertTypes []AlertType
	// YieldsEvents is true for event sources (event logs).
	YieldsEvents bool
	// Decodes is true when the source implements Decoder: the module's raw
	// output goes back to the plugin to be turned into metrics.
	Decodes bool
	// Settings declares the settings of the source's remote module, which
	// operators set in a module "<source>" block; the core checks the
	// block against it and passes it to the module as its JSON settings
	// (see package schema). The zero Schema declares none: the module
	// takes no settings.
	Settings schema.Schema
}

// MetricInfo describes one metric.
type MetricInfo struct {
	// Name is dotted lower_snake_case, prefixed by the source name
	// ("users.logged_in").
	Name string
	// Unit is "percent", "bytes", "seconds", "count", "" (a ratio),
	// "bytes_per_second" or "per_second".
	Unit        string
	Description string
	// Labels are the label names each sample of the metric carries (see
	// Metric.Labels), the first one naming the sample on its host ("mount",
	// "interface"); empty for a metric with one value per host.
	Labels []string
}

// AlertType maps an <alert type> name to the metric it compares.
type AlertType struct {
	Name   string
	Metric string
}

// Platform is a host's operating system and architecture, in GOOS/GOARCH
// spelling.
type Platform struct {
	OS   string
	Arch string
}

// Module says how a platform measures this source.
type Module struct {
	// Builtin names a module compiled into the agent ("cpu"). When set,
	// Artifact is nil.
	Builtin string
	// Artifact is a program or script to ship and run.
	Artifact *Artifact
}

// Artifact is an external module: the core uploads it beside the agent,
// content-addressed, and the agent runs it with an agentmod.Request on
// stdin, expecting an agentmod.Result on stdout.
type Artifact struct {
	// FileName is the base name on the host ("users.sh").
	FileName string
	// Data is the file's content.
	Data []byte
	// Interpreter runs the file when set ("/bin/sh", "powershell.exe -File");
	// empty means the file is executed directly.
	Interpreter []string
	// Timeout bounds one run (0: the agent's default module timeout).
	Timeout time.Duration
}

// Metric is one value a source produced.
type Metric struct {
	Name  string
	Value float64
	Unit  string
	// Labels tell apart the samples of one metric on a host: a file
	// system's {"mount": "/var"}, an interface's {"interface": "eth0"}.
	// Nil for a metric with one value per host. Names are
	// lower_snake_case; a host's round holds one sample per metric and
	// labels.
	Labels map[string]string
}

// Event is one log record an event source produced.
type Event struct {
	Channel  string
	RecordID uint64
	Time     time.Time
	Level    string
	Provider string
	EventID  int
	Message  string
	Fields   map[string]string
}

// Decoded is what a Decoder makes of a module's raw output.
type Decoded struct {
	Metrics []Metric
	Events  []Event
}

// Supports reports whether p matches one of d.Platforms, "os/arch"
// patterns where "*" stands for any os or any arch. No patterns match every
// platform; a pattern without "/" matches nothing.
func (d Description) Supports(p Platform) bool {
	if len(d.Platforms) == 0 {
		return true
	}
	for _, pattern := range d.Platforms {
		goos, goarch, ok := strings.Cut(pattern, "/")
		if ok && (goos == "*" || goos == p.OS) && (goarch == "*" || goarch == p.Arch) {
			return true
		}
	}
	return false
}

// Source is a metric source plugin.
type Source interface {
	Describe(ctx context.Context) (Description, error)
	// Module returns how to measure on p, or an error when p is not
	// supported.
	Module(ctx context.Context, p Platform) (Module, error)
}

// Decoder is implemented by sources whose modules print raw output that
// the plugin itself decodes (Description.Decodes).
type Decoder interface {
	Decode(ctx context.Context, p Platform, raw []byte) (Decoded, error)
}
