// Package uptime is the built-in source of the time since boot, measured by
// the agent's uptime module.
package uptime

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "uptime"

// New returns the uptime source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMetered(Name, version, metrics.UptimeSeconds, "linux/*", "darwin/*", "windows/*")
}
