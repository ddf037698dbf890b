// Package plugins is the catalog of the plugins built into CSCS: the
// sources measured by the agent's own modules, SQLite storage and the SMTP
// notifier. Every built-in is written only against sdk/, and the core
// serves each of them out of process through the public SDK.
package plugins

import (
	"github.com/cscs-dev/cscs/plugins/notifier/smtp"
	"github.com/cscs-dev/cscs/plugins/source/authlog"
	"github.com/cscs-dev/cscs/plugins/source/cpu"
	"github.com/cscs-dev/cscs/plugins/source/disk"
	"github.com/cscs-dev/cscs/plugins/source/eventlog"
	"github.com/cscs-dev/cscs/plugins/source/load"
	"github.com/cscs-dev/cscs/plugins/source/memory"
	netsource "github.com/cscs-dev/cscs/plugins/source/net"
	"github.com/cscs-dev/cscs/plugins/source/swap"
	"github.com/cscs-dev/cscs/plugins/source/uptime"
	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
)

// Plugin kinds; the same strings as the SDK's plugin kinds.
const (
	KindSource   = "source"
	KindStorage  = "storage"
	KindNotifier = "notifier"
)

// Builtin is one built-in plugin.
type Builtin struct {
	// Kind is KindSource, KindStorage or KindNotifier.
	Kind string
	// Name is unique per kind and equals the name the plugin describes.
	Name string
	// New returns a fresh plugin reporting version: a source.Source, a
	// storage.Storage or a notifier.Notifier, as Kind says.
	New func(version string) any
}

// Builtins returns the built-in plugins, sources first, in a fresh slice.
func Builtins() []Builtin {
	return []Builtin{
		{Kind: KindSource, Name: cpu.Name, New: func(v string) any { return cpu.New(v) }},
		{Kind: KindSource, Name: memory.Name, New: func(v string) any { return memory.New(v) }},
		{Kind: KindSource, Name: swap.Name, New: func(v string) any { return swap.New(v) }},
		{Kind: KindSource, Name: uptime.Name, New: func(v string) any { return uptime.New(v) }},
		{Kind: KindSource, Name: disk.Name, New: func(v string) any { return disk.New(v) }},
		{Kind: KindSource, Name: netsource.Name, New: func(v string) any { return netsource.New(v) }},
		{Kind: KindSource, Name: load.Name, New: func(v string) any { return load.New(v) }},
		{Kind: KindSource, Name: authlog.Name, New: func(v string) any { return authlog.New(v) }},
		{Kind: KindSource, Name: eventlog.Name, New: func(v string) any { return eventlog.New(v) }},
		{Kind: KindStorage, Name: sqlite.Name, New: func(v string) any { return &sqlite.Plugin{Version: v} }},
		{Kind: KindStorage, Name: postgres.Name, New: func(v string) any { return &postgres.Plugin{Version: v} }},
		{Kind: KindNotifier, Name: smtp.Name, New: func(v string) any { return &smtp.Notifier{Version: v} }},
	}
}

// Lookup returns the built-in plugin of kind named name.
func Lookup(kind, name string) (Builtin, bool) {
	for _, b := range Builtins() {
		if b.Kind == kind && b.Name == name {
			return b, true
		}
	}
	return Builtin{}, false
}
