// Package agentbuiltin implements the sources whose module is compiled into
// the CSCS agent: their description is fixed data and their module, on
// every supported platform, is the agent's built-in module of a given name.
// The packages beside this one (cpu, memory, swap, uptime, load, disk,
// net, authlog, eventlog) supply the data.
package agentbuiltin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Source is a source measured by a module built into the agent.
// It is immutable: Describe hands out copies.
type Source struct {
	desc   source.Description
	module string
}

var _ source.Source = (*Source)(nil)

// New returns the source described by desc whose measurements come from
// the agent's built-in module named module.
func New(desc source.Description, module string) *Source {
	return &Source{desc: cloneDescription(desc), module: module}
}

// NewMetered returns the metric source named like the agent's built-in
// module it runs, reporting version, on platforms ("linux/*", ...). It
// declares the module's metrics as the table of built-in metrics does and
// one alert type, named like the source, comparing alertMetric.
func NewMetered(module, version, alertMetric string, platforms ...string) *Source {
	return NewMeteredWithSettings(module, version, alertMetric, schema.Schema{}, platforms...)
}

// NewMeteredWithSettings is NewMetered for a module that reads settings
// (which file systems, which interfaces); alertMetric may be empty for a
// source without an alert type.
func NewMeteredWithSettings(module, version, alertMetric string, settings schema.Schema, platforms ...string) *Source {
	d := source.Description{
		Name:      module,
		Version:   version,
		Platforms: platforms,
		Metrics:   Metrics(module),
		Settings:  settings,
	}
	if alertMetric != "" {
		d.AlertTypes = []source.AlertType{{Name: module, Metric: alertMetric}}
	}
	return New(d, module)
}

// NewEvents returns the event source named like the agent's built-in
// module it runs, reporting version, on platforms; settings declares what
// the module reads. It yields events, and the metrics about its reads that
// the table of built-in metrics declares for the module (for authlog, the
// count of the collector's own records left out).
func NewEvents(module, version string, settings schema.Schema, platforms ...string) *Source {
	return New(source.Description{
		Name:         module,
		Version:      version,
		Platforms:    platforms,
		Metrics:      Metrics(module),
		YieldsEvents: true,
		Settings:     settings,
	}, module)
}

// Describe returns a copy of the source's description.
func (s *Source) Describe(context.Context) (source.Description, error) {
	return cloneDescription(s.desc), nil
}

// Module names the agent's built-in module when p is one of the source's
// platforms and returns an error naming p otherwise.
func (s *Source) Module(_ context.Context, p source.Platform) (source.Module, error) {
	if p.OS == "" || p.Arch == "" {
		return source.Module{}, fmt.Errorf("source %s: platform %q is incomplete: both os and arch are needed", s.desc.Name, p.OS+"/"+p.Arch)
	}
	if !s.desc.Supports(p) {
		return source.Module{}, fmt.Errorf("source %s does not support platform %s/%s; it runs on %s",
			s.desc.Name, p.OS, p.Arch, strings.Join(s.desc.Platforms, ", "))
	}
	return source.Module{Builtin: s.module}, nil
}

func cloneDescription(d source.Description) source.Description {
	d.Platforms = slices.Clone(d.Platforms)
	d.Metrics = slices.Clone(d.Metrics)
	d.AlertTypes = slices.Clone(d.AlertTypes)
	d.Settings.Attributes = slices.Clone(d.Settings.Attributes)
	return d
}

// Metrics are the metrics of the agent's built-in module, as the table of
// built-in metrics (sdk/metrics) declares them.
func Metrics(module string) []source.MetricInfo {
	var out []source.MetricInfo
	for _, m := range metrics.Of(module) {
		out = append(out, source.MetricInfo{Name: m.Name, Unit: m.Unit, Description: m.Description, Labels: m.Labels})
	}
	return out
}
