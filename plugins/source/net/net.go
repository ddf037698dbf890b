// Package net is the built-in source of network traffic: per interface,
// bytes, packets, errors and drops, received and sent, per second, measured
// by the agent's net module on Linux, macOS and Windows. Its metrics carry
// the label "interface". The agent reports each counter's running total;
// the core stores its rate per second since the previous round (nothing
// for an interface's first round, nor across a reboot or a counter reset).
//
// It has no alert type: rates are alerted on through overlay expressions
// (see sample.hcl). Importers that also use the standard library's net
// package name this one netsource.
//
// The module's settings, all optional, are
//
//	{"interfaces": ["eth*", "eno1"], "include_virtual": false}
//
// By default every interface but loopback and virtual ones (bridges, veth
// pairs, tunnels, ...) is reported. The agent's module checks the settings
// and refuses unknown keys; this package only declares them (the plugins
// may not import the agent, and a test keeps the two in step).
package net

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/schema"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "net"

// New returns the net source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMeteredWithSettings(Name, version, "", settingsSchema(), "linux/*", "darwin/*", "windows/*")
}

// settingsSchema declares the settings of the agent's net module.
func settingsSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "interfaces", Type: schema.ListOfString,
			Description: `the interfaces reported, by name or shell pattern such as "eth*" or "en[ox]*", at most 64 of up to 256 bytes; loopback and virtual interfaces that match are reported too; empty reports every interface but loopback and virtual ones`},
		{Name: "include_virtual", Type: schema.Bool,
			Description: "when interfaces is empty, report virtual interfaces (bridges, veth pairs, tunnels) too, loopback still left out; default false"},
	}}
}
