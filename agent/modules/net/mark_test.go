package net

import (
	"reflect"
	"testing"
)

func TestMark(t *testing.T) {
	in := []Interface{{Name: "lo0"}, {Name: "en0"}, {Name: "utun3"}, {Name: "Loopback Pseudo-Interface 1"}}
	got := mark(in, map[string]bool{"lo0": true, "Loopback Pseudo-Interface 1": true}, map[string]bool{"utun3": true})
	want := []Interface{
		{Name: "lo0", Loopback: true, Virtual: true},
		{Name: "en0"},
		{Name: "utun3", Virtual: true},
		{Name: "Loopback Pseudo-Interface 1", Loopback: true, Virtual: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mark = %+v, want %+v", got, want)
	}
	if got := mark(nil, nil, nil); len(got) != 0 {
		t.Fatalf("mark(nil) = %v", got)
	}
}

func TestIsDarwinVirtual(t *testing.T) {
	for name, want := range map[string]bool{
		"en0": false, "en10": false, "lo0": false, "bond0": false,
		"utun0": true, "utun12": true, "awdl0": true, "llw0": true, "bridge0": true,
		"gif0": true, "stf0": true, "anpi1": true, "ap1": true,
		"utun": false, "apple0": false, "bridgeX": false,
	} {
		if got := isDarwinVirtual(name); got != want {
			t.Errorf("isDarwinVirtual(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsWindowsVirtual(t *testing.T) {
	tests := []struct {
		ifType uint32
		desc   string
		want   bool
	}{
		{6, "Intel(R) Ethernet Connection (7) I219-LM", false},
		{71, "Intel(R) Wi-Fi 6 AX201 160MHz", false},
		{24, "Software Loopback Interface 1", true},
		{131, "Teredo Tunneling Pseudo-Interface", true},
		{131, "WireGuard Tunnel", true},
		{53, "TAP-Windows Adapter V9", true},
		{6, "Hyper-V Virtual Ethernet Adapter", true},
		{6, "VirtualBox Host-Only Ethernet Adapter", true},
		{6, "VMware Virtual Ethernet Adapter for VMnet8", true},
	}
	for _, tc := range tests {
		if got := isWindowsVirtual(tc.ifType, tc.desc); got != tc.want {
			t.Errorf("isWindowsVirtual(%d, %q) = %v, want %v", tc.ifType, tc.desc, got, tc.want)
		}
	}
}
