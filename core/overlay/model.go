package overlay

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Overlay is the merged content of every overlay file.
type Overlay struct {
	// Files are the files read, in precedence order (later wins).
	Files []string
	Round Round
	// Plugins are external plugins declared by path and checksum.
	Plugins   []Plugin
	Storages  []Instance
	Notifiers []Instance
	Groups    []Group
	// Alerts are rules for every host.
	Alerts []Alert
	Routes []Route

	// sources holds every file's text, for diagnostics with snippets.
	sources map[string]*hcl.File
}

// Setting is a round setting an overlay may set.
type Setting[T any] struct {
	Value T
	// Set is true when some overlay file set it; Range is where.
	Set   bool
	Range hcl.Range
}

// Round is the round block: settings that override the built-in
// defaults (and are overridden by flags given on the command line).
type Round struct {
	Concurrency      Setting[int]
	MaxHandshakes    Setting[int]
	MaxUploads       Setting[int]
	ConnectTimeout   Setting[time.Duration]
	HandshakeTimeout Setting[time.Duration]
	HostTimeout      Setting[time.Duration]
	CPUSample        Setting[time.Duration]
	AlertRepeat      Setting[time.Duration]
	// Interval, when set, makes `cscs run` repeat rounds at this interval
	// until it is stopped.
	Interval Setting[time.Duration]
}

// Plugin declares an external plugin binary by path and checksum.
type Plugin struct {
	Name string
	// Kind is "source", "storage" or "notifier".
	Kind string
	// Path is absolute (resolved against the overlay file's directory).
	Path   string
	SHA256 string
	// Dev is set for a plugin under development (dev = true): it is not
	// pinned (SHA256 is empty), so each rebuild runs as it is.
	Dev   bool
	Range hcl.Range
}

// Instance is a configured storage or notifier: a plugin with its
// settings, under a name of its own.
type Instance struct {
	// Kind is "storage" or "notifier".
	Kind string
	// Plugin names a built-in or a declared plugin ("sqlite", "webhook").
	Plugin string
	// Name names the instance ("local", "warehouse").
	Name string
	// Config is the settings decoded against the plugin's schema (set by
	// Resolve); Sensitive names the attributes not to print.
	Config    cty.Value
	Sensitive map[string]bool
	Range     hcl.Range
	// LeftOut, when set, is why its plugin is left out of the round (set
	// by Resolve when the plugin cannot be started and the options leave
	// it out); Config is then not decoded.
	LeftOut error

	body hcl.Body
	ctx  *hcl.EvalContext
}

// Group is a set of hosts chosen by selectors, with what applies to them.
type Group struct {
	Name     string
	Selector Selector
	// Sources, when not nil, are the only sources its hosts run.
	Sources      []string
	SourcesRange hcl.Range
	// Modules are module settings by source name.
	Modules []Module
	Alerts  []Alert
	// Interval, when set, is the time between two collections of the
	// group's hosts in `cscs serve` and `cscs run --interval`, in place of
	// the global one.
	Interval Setting[time.Duration]
	// DownAfter, when set, is how many failed rounds in a row make its
	// hosts DOWN (0: no DOWN alerts); a client's own
	// <alert type="down"> in config.xml wins over it.
	DownAfter Setting[int]
	Range     hcl.Range
}

// Selector chooses hosts: a client matches when its ip attribute matches
// any of Prefixes or Names (or neither is given) and its OS is in OS (or
// OS is empty).
type Selector struct {
	// Prefixes match the client's ip attribute when it is an address.
	Prefixes []netip.Prefix
	// Names are glob patterns (path.Match syntax) over the client's ip
	// attribute as written (an address or a host name).
	Names []string
	// OS are operating systems in GOOS spelling ("linux", "windows"); a
	// host's OS is known once it was reached.
	OS []string
}

// Module is a module block: settings for one source's remote module.
type Module struct {
	Source string
	// Settings are decoded against the source's settings schema (set by
	// Resolve).
	Settings  cty.Value
	Sensitive map[string]bool
	Range     hcl.Range

	body hcl.Body
	ctx  *hcl.EvalContext
}

// Alert is an expression alert rule.
type Alert struct {
	Name string
	// Group is the group that declares it ("" for a top-level rule).
	Group     string
	Condition hcl.Expression
	// Text is the condition as written.
	Text string
	// For is how many consecutive rounds the condition must hold before
	// the rule fires (1 when not set).
	For      int
	Severity string
	// Repeat, when not zero, replaces the global repeat interval.
	Repeat time.Duration
	Range  hcl.Range

	// ctx is the context of the file that declares the rule (variables,
	// locals, functions).
	ctx *hcl.EvalContext
	// metrics are the metrics the condition names (conditionMetrics).
	metrics []string
}

// SeverityRank orders severities: "info" 1, "warning" 2, "critical" 3;
// anything else is 0.
func SeverityRank(s string) int {
	switch s {
	case "info":
		return 1
	case "warning":
		return 2
	case "critical":
		return 3
	}
	return 0
}

// Route sends the notifications that match it to notifiers.
type Route struct {
	// Severities, Groups and Hosts select notifications; an empty list
	// matches every one. Hosts are globs or CIDRs over the client.
	Severities []string
	Groups     []string
	Hosts      []string
	// Kinds are "alert" and/or "eventlog"; empty means both.
	Kinds     []string
	Notifiers []string
	Range     hcl.Range
	// GroupsRange and NotifiersRange are where the lists are written.
	GroupsRange, NotifiersRange hcl.Range
}
