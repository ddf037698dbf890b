// Package swap is the built-in source of swap (page file) use, measured by
// the agent's swap module.
package swap

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "swap"

// New returns the swap source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMetered(Name, version, metrics.SwapUsedPercent, "linux/*", "darwin/*", "windows/*")
}
