// Package net is the agent module that reports the traffic counters of
// the host's network interfaces: per interface, bytes, packets, errors and
// drops, received and sent, as running totals (module.CounterTotal)
// labelled with the interface's name (metrics.LabelInterface). The agent
// samples once; the core turns each total into a rate per second with the
// total it kept from the previous round.
//
// Interfaces: on Linux the module parses /proc/net/dev (no other
// dependency); an interface is virtual when /sys/devices/virtual/net/<name>
// exists (lo, docker0, veth*, br-*, tun*, wg*, ...) and loopback when it is
// named "lo" or its /sys/class/net/<name>/flags has IFF_LOOPBACK. On macOS
// and Windows it reads gopsutil's per-interface counters and leaves out
// the interfaces the operating system flags as loopback (net.Interfaces);
// on macOS the interfaces of the system's own virtual drivers (utun, awdl,
// llw, bridge, gif, stf, anpi, ap) count as virtual, on Windows the
// adapters of tunnel type and those whose description says "virtual"
// (Hyper-V, VMware, VirtualBox).
//
// Settings (Request.ModuleConfig["net"]), all optional:
//
//	{"interfaces": ["eth*", "eno1"], "include_virtual": false}
//
// By default every interface but loopback and virtual ones is reported.
// interfaces lists names or shell patterns (path.Match: "*", "?", "[a-z]")
// and reports exactly the interfaces that match one of them, loopback and
// virtual ones included; include_virtual reports virtual interfaces too
// (loopback still left out) when interfaces is empty. A host with no
// matching interface yields no metrics and no error.
package net

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module name requests use.
const Name = "net"

// Bounds of Settings.
const (
	// MaxInterfaces is the most names or patterns interfaces may list.
	MaxInterfaces = 64
	// MaxPatternBytes is the longest name or pattern accepted (Windows
	// adapter names run long; Linux ones have at most 15 bytes).
	MaxPatternBytes = 256
)

// Counters are an interface's running totals since it came up.
type Counters struct {
	RxBytes, RxPackets, RxErrors, RxDrops uint64
	TxBytes, TxPackets, TxErrors, TxDrops uint64
}

// Interface is one network interface and its counters.
type Interface struct {
	Name string
	// Loopback: the host talking to itself (lo, lo0, Windows' Loopback
	// Pseudo-Interface).
	Loopback bool
	// Virtual: no hardware behind it (bridges, veth pairs, tunnels, ...).
	Virtual bool
	Counters
}

// Reader reads the interfaces of the host.
type Reader = module.Reader[[]Interface]

// Settings are the module's settings.
type Settings struct {
	// Interfaces are names or path.Match patterns; when not empty, exactly
	// the interfaces matching one are reported.
	Interfaces []string `json:"interfaces,omitempty"`
	// IncludeVirtual reports virtual interfaces too when Interfaces is
	// empty.
	IncludeVirtual bool `json:"include_virtual,omitempty"`
}

// ParseSettings reads raw (nil or "null" means defaults) and checks every
// pattern. Unknown keys are refused so a misspelt setting is not silently
// ignored.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if err := module.DecodeSettings(raw, Name, "interfaces, include_virtual", &s); err != nil {
		return Settings{}, err
	}
	if len(s.Interfaces) > MaxInterfaces {
		return Settings{}, fmt.Errorf("net interfaces lists %d names or patterns: at most %d are supported", len(s.Interfaces), MaxInterfaces)
	}
	for _, p := range s.Interfaces {
		if err := checkPattern(p); err != nil {
			return Settings{}, err
		}
	}
	return s, nil
}

// checkPattern refuses an empty, overlong, unprintable or malformed
// interface name or pattern.
func checkPattern(p string) error {
	switch {
	case strings.TrimSpace(p) == "":
		return errors.New("net interfaces holds an empty name")
	case len(p) > MaxPatternBytes:
		return fmt.Errorf("net interfaces holds a name %d bytes long: at most %d are supported", len(p), MaxPatternBytes)
	case !utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl):
		return fmt.Errorf("net interfaces name %q holds invalid or control characters", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("net interfaces pattern %q is malformed (path.Match syntax: *, ?, [a-z], \\ escapes): %w", p, err)
	}
	return nil
}

// wants tells whether the settings report ifc.
func (s Settings) wants(ifc Interface) bool {
	if len(s.Interfaces) == 0 {
		return !ifc.Loopback && (s.IncludeVirtual || !ifc.Virtual)
	}
	for _, p := range s.Interfaces {
		if ok, _ := path.Match(p, ifc.Name); ok {
			return true
		}
	}
	return false
}

// Module reports the counters of the host's network interfaces.
type Module struct {
	read Reader
}

var _ module.Module = Module{}

// New returns the module reading the host: /proc/net/dev on Linux,
// gopsutil elsewhere.
func New() Module { return NewWithReader(hostReader{}) }

// NewWithReader returns the module reading through r (tests pass fakes).
func NewWithReader(r Reader) Module { return Module{read: r} }

// Name returns "net".
func (Module) Name() string { return Name }

// Collect checks the settings, reads the interfaces and returns the
// counters of those the settings select.
func (m Module) Collect(ctx context.Context, cfg module.Config) ([]protocol.Metric, error) {
	s, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	ifcs, err := m.read.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("read network interfaces: %w", err)
	}
	return toMetrics(ifcs, s), nil
}

// toMetrics returns the eight counters of each interface s selects, in
// the order read; an interface listed twice is reported once.
func toMetrics(ifcs []Interface, s Settings) []protocol.Metric {
	var out []protocol.Metric
	seen := map[string]bool{}
	for _, ifc := range ifcs {
		if seen[ifc.Name] || !s.wants(ifc) {
			continue
		}
		seen[ifc.Name] = true
		c := ifc.Counters
		for _, v := range [...]struct {
			name  string
			total uint64
		}{
			{metrics.NetRxBytesPerSecond, c.RxBytes},
			{metrics.NetTxBytesPerSecond, c.TxBytes},
			{metrics.NetRxPacketsPerSecond, c.RxPackets},
			{metrics.NetTxPacketsPerSecond, c.TxPackets},
			{metrics.NetRxErrorsPerSecond, c.RxErrors},
			{metrics.NetTxErrorsPerSecond, c.TxErrors},
			{metrics.NetRxDropsPerSecond, c.RxDrops},
			{metrics.NetTxDropsPerSecond, c.TxDrops},
		} {
			out = append(out, module.CounterTotal(v.name, v.total, map[string]string{metrics.LabelInterface: ifc.Name}))
		}
	}
	return out
}
