package sshfleet

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

func TestPlanAddrs(t *testing.T) {
	tests := map[string]struct {
		first     string
		n         int
		wantFirst string
		wantLast  string
		wantErr   string
	}{
		"default start": {first: "127.0.50.1", n: 3, wantFirst: "127.0.50.1", wantLast: "127.0.50.3"},
		"crosses a /24 skipping .255 and .0": {
			first: "127.0.50.253", n: 4, wantFirst: "127.0.50.253", wantLast: "127.0.51.2",
		},
		"first on .0 is skipped":   {first: "127.0.1.0", n: 1, wantFirst: "127.0.1.1", wantLast: "127.0.1.1"},
		"mapped ipv4 is accepted":  {first: "::ffff:127.0.0.1", n: 2, wantFirst: "127.0.0.1", wantLast: "127.0.0.2"},
		"end of 127/8 is refused":  {first: "127.255.255.253", n: 3, wantErr: "do not fit in 127.0.0.0/8"},
		"private address refused":  {first: "10.0.0.1", n: 1, wantErr: "not in 127.0.0.0/8"},
		"ipv6 loopback is refused": {first: "::1", n: 1, wantErr: "not in 127.0.0.0/8"},
		"unspecified is refused":   {first: "0.0.0.0", n: 1, wantErr: "not in 127.0.0.0/8"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			addrs, err := planAddrs(netip.MustParseAddr(tc.first), tc.n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("planAddrs error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("planAddrs: %v", err)
			}
			if len(addrs) != tc.n {
				t.Fatalf("got %d addresses, want %d", len(addrs), tc.n)
			}
			if got := addrs[0].String(); got != tc.wantFirst {
				t.Errorf("first = %s, want %s", got, tc.wantFirst)
			}
			if got := addrs[len(addrs)-1].String(); got != tc.wantLast {
				t.Errorf("last = %s, want %s", got, tc.wantLast)
			}
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	key := sshdtest.NewSigner(t).PublicKey()
	tests := map[string]struct {
		opts    Options
		wantErr string
	}{
		"password only":    {opts: Options{Hosts: 1, User: "u", Password: "p"}},
		"key only":         {opts: Options{Hosts: 1, User: "u", AuthorizedKey: key}},
		"no hosts":         {opts: Options{User: "u", Password: "p"}, wantErr: "fleet size 0"},
		"too many hosts":   {opts: Options{Hosts: MaxHosts + 1, User: "u", Password: "p"}, wantErr: "out of range"},
		"no user":          {opts: Options{Hosts: 1, Password: "p"}, wantErr: "no user name"},
		"no credentials":   {opts: Options{Hosts: 1, User: "u"}, wantErr: "no authentication method"},
		"bad port":         {opts: Options{Hosts: 1, User: "u", Password: "p", Port: 70000}, wantErr: "port 70000"},
		"negative limit":   {opts: Options{Hosts: 1, User: "u", Password: "p", MaxConns: -1}, wantErr: "negative limit"},
		"password secrets": {opts: Options{Hosts: 0, User: "u", Password: "hunter2"}, wantErr: "fleet size"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tc.opts.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q reveals the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("withDefaults: %v", err)
			}
			if got.Shell == "" || got.MaxConns != DefaultMaxConns || got.MaxCommands != DefaultMaxCommands ||
				got.HandshakeTimeout != DefaultHandshakeTimeout || got.Logf == nil {
				t.Fatalf("defaults not applied: %+v", got)
			}
		})
	}
}
