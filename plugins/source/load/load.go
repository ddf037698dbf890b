// Package load is the built-in source of the load averages of Unix-like
// hosts, measured by the agent's load module. Windows has no load average.
package load

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "load"

// New returns the load source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMetered(Name, version, metrics.Load1, "linux/*", "darwin/*")
}
