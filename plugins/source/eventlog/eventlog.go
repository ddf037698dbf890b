// Package eventlog is the built-in event source of a Windows event log
// channel (the Security log by default: logons, failed logons, privilege
// use, account changes), read incrementally by the agent's eventlog module
// through wevtapi. It yields events on the channel read and no metrics.
//
// The module's settings, all optional, are
//
//	{"channel": "Security", "first_window": "24h", "event_ids": [4624, 4625], "max": 500}
//
// The agent's module checks them and refuses unknown keys; this package
// only declares them (the plugins may not import the agent, and a test
// keeps the two in step).
//
// Besides the log's records it yields notices (provider "cscs-agent",
// event id 0, field "notice"): events waiting for next round, a cleared
// log, records overwritten before being read, unparsable records, an
// unreadable cursor.
package eventlog

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/schema"
)

// Name is the source's name and the name of the agent module reading it.
const Name = "eventlog"

// New returns the eventlog source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewEvents(Name, version, settingsSchema(), "windows/*")
}

// settingsSchema declares the settings of the agent's eventlog module.
func settingsSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "channel", Type: schema.String,
			Description: `the event log channel read, such as "System"; default "Security"`},
		{Name: "first_window", Type: schema.Duration,
			Description: `how far back the first round reads, such as "24h" (default), at most 8784h`},
		{Name: "event_ids", Type: schema.ListOfNumber,
			Description: "only events with these ids, at most 16 (such as [4624, 4625]); empty keeps every event"},
		{Name: "max", Type: schema.Number,
			Description: "the most events one round returns, up to 5000; default 500"},
	}}
}
