package net

import "strings"

// mark sets Loopback on the interfaces named in loopbacks, and Virtual on
// those and on the ones named in virtual (the non-Linux readers learn the
// counters, the flags and the kinds of interface from different calls).
func mark(ifcs []Interface, loopbacks, virtual map[string]bool) []Interface {
	for i := range ifcs {
		ifcs[i].Loopback = loopbacks[ifcs[i].Name]
		ifcs[i].Virtual = ifcs[i].Loopback || virtual[ifcs[i].Name]
	}
	return ifcs
}

// darwinVirtualPrefixes are the names of macOS's own software interfaces:
// VPN tunnels, Apple Wireless Direct Link and its low-latency companion,
// bridges (Internet sharing, Thunderbolt bridge), the 6to4 and generic
// tunnels, the Apple-silicon private interfaces and the personal hotspot.
var darwinVirtualPrefixes = []string{"utun", "awdl", "llw", "bridge", "gif", "stf", "anpi", "ap"}

// isDarwinVirtual tells whether the macOS interface name is one of the
// system's software interfaces: a prefix of darwinVirtualPrefixes followed
// by a unit number.
func isDarwinVirtual(name string) bool {
	for _, p := range darwinVirtualPrefixes {
		if unit, ok := strings.CutPrefix(name, p); ok && unit != "" && strings.Trim(unit, "0123456789") == "" {
			return true
		}
	}
	return false
}

// Windows interface types (IfType, ipifcons.h) without hardware behind.
const (
	ifTypeSoftwareLoopback = 24
	ifTypePropVirtual      = 53
	ifTypeTunnel           = 131
)

// isWindowsVirtual tells whether a Windows adapter of type ifType and
// description desc is virtual: a loopback, tunnel (Teredo, ISATAP, VPNs)
// or proprietary virtual adapter, or one whose driver calls itself
// virtual ("Hyper-V Virtual Ethernet Adapter", "VirtualBox Host-Only
// Ethernet Adapter", "VMware Virtual Ethernet Adapter").
func isWindowsVirtual(ifType uint32, desc string) bool {
	switch ifType {
	case ifTypeSoftwareLoopback, ifTypePropVirtual, ifTypeTunnel:
		return true
	}
	return strings.Contains(strings.ToLower(desc), "virtual")
}
