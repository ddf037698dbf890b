// Package authlog is the built-in event source of Linux logins and sudo
// use, read by the agent's authlog module from journald or the auth log.
// It yields events on channel "auth", and metric authlog.own_session_lines:
// how many login records of the collector's own SSH sessions the module
// left out.
//
// The module's settings, all optional, are
//
//	{"file": "/var/log/auth.log", "max_events": 500, "first_bytes": 65536}
//
// The agent's module checks them; this package only declares them (the
// plugins may not import the agent, and a test keeps the two in step).
package authlog

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/schema"
)

// Name is the source's name and the name of the agent module reading it.
const Name = "authlog"

// New returns the authlog source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewEvents(Name, version, settingsSchema(), "linux/*")
}

// settingsSchema declares the settings of the agent's authlog module.
func settingsSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "file", Type: schema.String,
			Description: "absolute path of a log file to read instead of the system's auth log (journald is then not used)"},
		{Name: "max_events", Type: schema.Number,
			Description: "the most events one round returns, 1 to 5000; default 500"},
		{Name: "first_bytes", Type: schema.Number,
			Description: "how many bytes of a file's end the first round reads, up to 8388608; default 65536"},
	}}
}
