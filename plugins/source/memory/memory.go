// Package memory is the built-in source of physical memory use, measured by
// the agent's memory module.
package memory

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "memory"

// New returns the memory source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.New(source.Description{
		Name:       Name,
		Version:    version,
		Platforms:  []string{"linux/*", "darwin/*", "windows/*"},
		Metrics:    agentbuiltin.Metrics(Name),
		AlertTypes: []source.AlertType{{Name: "memory", Metric: metrics.MemoryUsedPercent}},
	}, Name)
}
