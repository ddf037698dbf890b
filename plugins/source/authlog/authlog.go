// Package authlog is the built-in event source of Linux logins and sudo
// use, read by the agent's authlog module from journald or the auth log.
// It yields events on channel "auth" and no metrics.
package authlog

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name and the name of the agent module reading it.
const Name = "authlog"

// New returns the authlog source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.New(source.Description{
		Name:         Name,
		Version:      version,
		Platforms:    []string{"linux/*"},
		YieldsEvents: true,
	}, Name)
}
