// Package load is the built-in source of the load averages of Unix-like
// hosts, measured by the agent's load module. Windows has no load average.
package load

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "load"

// New returns the load source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.New(source.Description{
		Name:      Name,
		Version:   version,
		Platforms: []string{"linux/*", "darwin/*"},
		Metrics: []source.MetricInfo{
			{Name: "load.1", Unit: "", Description: "average number of runnable (and, on Linux, uninterruptible) tasks over 1 minute"},
			{Name: "load.5", Unit: "", Description: "the same average over 5 minutes"},
			{Name: "load.15", Unit: "", Description: "the same average over 15 minutes"},
		},
		AlertTypes: []source.AlertType{{Name: "load", Metric: "load.1"}},
	}, Name)
}
