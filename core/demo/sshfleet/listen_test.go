package sshfleet

import (
	"context"
	"net"
	"net/netip"
	"testing"
)

func TestListenPlan(t *testing.T) {
	// 192.0.2.0/24 (TEST-NET-1) is assigned to no interface, so binding
	// it fails the way 127.0.50.1 does on macOS.
	unassigned := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}
	loopback := []netip.Addr{netip.MustParseAddr("127.0.60.1"), netip.MustParseAddr("127.0.60.2"), netip.MustParseAddr("127.0.60.3")}
	probe, err := net.Listen("tcp4", "127.0.61.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	tests := map[string]struct {
		addrs        []netip.Addr
		port         int
		fallback     bool
		wantErr      bool
		wantIPs      []string
		wantOnePort  bool
		wantDistinct bool
	}{
		"shared port on consecutive addresses": {
			addrs: loopback, wantIPs: []string{"127.0.60.1", "127.0.60.2", "127.0.60.3"}, wantOnePort: true,
		},
		"explicit port": {
			addrs: []netip.Addr{netip.MustParseAddr("127.0.61.1"), netip.MustParseAddr("127.0.61.2")}, port: freePort,
			wantIPs: []string{"127.0.61.1", "127.0.61.2"}, wantOnePort: true,
		},
		"unassigned address without fallback fails": {addrs: unassigned, wantErr: true},
		"unassigned address falls back to 127.0.0.1 with a port each": {
			addrs: unassigned, fallback: true, wantIPs: []string{"127.0.0.1", "127.0.0.1"}, wantDistinct: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lns, err := listenPlan(context.Background(), tc.addrs, tc.port, tc.fallback)
			if tc.wantErr {
				if err == nil {
					closeAll(lns)
					t.Fatal("listenPlan succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("listenPlan: %v", err)
			}
			defer closeAll(lns)
			if len(lns) != len(tc.wantIPs) {
				t.Fatalf("got %d listeners, want %d", len(lns), len(tc.wantIPs))
			}
			ports := map[int]bool{}
			for i, ln := range lns {
				a := ln.Addr().(*net.TCPAddr)
				if a.IP.String() != tc.wantIPs[i] {
					t.Errorf("listener %d on %s, want %s", i, a.IP, tc.wantIPs[i])
				}
				ports[a.Port] = true
			}
			if tc.port != 0 && !ports[tc.port] {
				t.Errorf("listeners use ports %v, want %d", ports, tc.port)
			}
			if tc.wantOnePort && len(ports) != 1 {
				t.Errorf("listeners use ports %v, want one shared port", ports)
			}
			if tc.wantDistinct && len(ports) != len(lns) {
				t.Errorf("listeners use ports %v, want one per listener", ports)
			}
		})
	}
}
