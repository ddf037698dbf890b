// Package cpu is the built-in source of CPU usage, measured by the agent's
// cpu module.
package cpu

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "cpu"

// New returns the cpu source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMetered(Name, version, metrics.CPUPercent, "linux/*", "darwin/*", "windows/*")
}
