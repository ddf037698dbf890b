// Package eventlog is the built-in event source of a Windows event log
// channel (the Security log by default: logons, failed logons, privilege
// use, account changes), read incrementally by the agent's eventlog module
// through wevtapi. It yields events on the channel read and no metrics.
//
// The module's settings, all optional, are
//
//	{"channel": "Security", "first_window": "24h", "event_ids": [4624, 4625], "max": 500}
//
// Besides the log's records it yields notices (provider "cscs-agent",
// event id 0, field "notice"): events waiting for next round, a cleared
// log, records overwritten before being read, unparsable records, an
// unreadable cursor.
package eventlog

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name and the name of the agent module reading it.
const Name = "eventlog"

// New returns the eventlog source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.New(source.Description{
		Name:         Name,
		Version:      version,
		Platforms:    []string{"windows/*"},
		YieldsEvents: true,
	}, Name)
}
