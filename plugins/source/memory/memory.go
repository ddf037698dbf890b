// Package memory is the built-in source of physical memory use, measured by
// the agent's memory module.
package memory

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "memory"

// New returns the memory source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.New(source.Description{
		Name:      Name,
		Version:   version,
		Platforms: []string{"linux/*", "darwin/*", "windows/*"},
		Metrics: []source.MetricInfo{
			{Name: "memory.used_percent", Unit: "percent", Description: "share of physical memory in use"},
			{Name: "memory.total_bytes", Unit: "bytes", Description: "physical memory installed"},
			{Name: "memory.used_bytes", Unit: "bytes", Description: "physical memory in use"},
			{Name: "memory.available_bytes", Unit: "bytes", Description: "memory available to new programs without swapping"},
		},
		AlertTypes: []source.AlertType{{Name: "memory", Metric: "memory.used_percent"}},
	}, Name)
}
