// Package swap is the built-in source of swap (page file) use, measured by
// the agent's swap module.
package swap

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "swap"

// New returns the swap source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.New(source.Description{
		Name:      Name,
		Version:   version,
		Platforms: []string{"linux/*", "darwin/*", "windows/*"},
		Metrics: []source.MetricInfo{
			{Name: "swap.used_percent", Unit: "percent", Description: "share of swap space in use; 0 on a host without swap"},
			{Name: "swap.total_bytes", Unit: "bytes", Description: "swap space configured"},
			{Name: "swap.used_bytes", Unit: "bytes", Description: "swap space in use"},
		},
		AlertTypes: []source.AlertType{{Name: "swap", Metric: "swap.used_percent"}},
	}, Name)
}
