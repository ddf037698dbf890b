// Package memory is the built-in source of physical memory use, measured by
// the agent's memory module.
package memory

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "memory"

// New returns the memory source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMetered(Name, version, metrics.MemoryUsedPercent, "linux/*", "darwin/*", "windows/*")
}
