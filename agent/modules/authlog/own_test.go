package authlog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

func TestSessionAddress(t *testing.T) {
	tests := map[string]string{
		"192.0.2.50 41652 192.0.2.1 22":      "192.0.2.50 41652",
		"2001:db8::50 50000 2001:db8::1 22":  "2001:db8::50 50000",
		"127.0.0.1 41658 127.0.182.1 38371":  "127.0.0.1 41658",
		"":                                   "",
		"192.0.2.50":                         "",
		"192.0.2.50 41652 192.0.2.1":         "",
		"192.0.2.50 port 192.0.2.1 22":       "",
		"192.0.2.50 0 192.0.2.1 22":          "",
		"192.0.2.50 70000 192.0.2.1 22":      "",
		"192.0.2.50 41652 192.0.2.1 22 more": "",
	}
	for in, want := range tests {
		if got := sessionAddress(in); got != want {
			t.Errorf("sessionAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// eventKeys names events as "user@ip:port", or "sudo:user".
func eventKeys(events []protocol.Event) []string {
	var out []string
	for _, e := range events {
		if e.Provider == "sudo" {
			out = append(out, "sudo:"+e.Fields["user"])
			continue
		}
		out = append(out, fmt.Sprintf("%s@%s:%s", e.Fields["user"], e.Fields["source_ip"], e.Fields["source_port"]))
	}
	return out
}

// TestOwnSessionFile reads testdata/own.log, lines as OpenSSH 9.2 (sshd,
// syslog), OpenSSH 9.8 and later (sshd-session, rsyslog's RFC 3339 form)
// and sshd -e (bare) write them, with the collector's session named by
// SSH_CONNECTION and the last round's by the cursor.
func TestOwnSessionFile(t *testing.T) {
	all := []string{
		"alice@192.0.2.50:41600", "cscs@192.0.2.50:41599", "cscs@192.0.2.50:41652", "cscs@192.0.2.50:41652",
		"cscs@198.51.100.9:41652", "cscs@2001:db8::50:50000", "admin@2001:db8::50:50001", "sudo:alice", "cscs@127.0.0.1:41658",
	}
	without := func(drop ...int) []string {
		var out []string
		for i, k := range all {
			if !slices.Contains(drop, i) {
				out = append(out, k)
			}
		}
		return out
	}
	tests := map[string]struct {
		sshConnection string
		lastOwn       string
		want          []string
		wantSkipped   float64
		wantOwn       string
	}{
		"not in an SSH session": {want: all},
		"OpenSSH 9.2 syslog: failed key and accepted password": {sshConnection: "192.0.2.50 41652 192.0.2.1 22",
			want: without(2, 3), wantSkipped: 2, wantOwn: "192.0.2.50 41652"},
		"and the last round's login, logged late": {sshConnection: "192.0.2.50 41652 192.0.2.1 22", lastOwn: "192.0.2.50 41599",
			want: without(1, 2, 3), wantSkipped: 3, wantOwn: "192.0.2.50 41652"},
		"the last round's only (no SSH_CONNECTION)": {lastOwn: "192.0.2.50 41599", want: without(1), wantSkipped: 1},
		"OpenSSH 9.8+ sshd-session over IPv6": {sshConnection: "2001:db8::50 50000 2001:db8::1 22",
			want: without(5), wantSkipped: 1, wantOwn: "2001:db8::50 50000"},
		"sshd -e bare line": {sshConnection: "127.0.0.1 41658 127.0.182.1 38371",
			want: without(8), wantSkipped: 1, wantOwn: "127.0.0.1 41658"},
		"malformed SSH_CONNECTION": {sshConnection: "192.0.2.50 41652", want: all},
		"another port of the collector's address is not its own": {sshConnection: "192.0.2.50 41601 192.0.2.1 22",
			want: all, wantOwn: "192.0.2.50 41601"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := Module{getenv: func(k string) string {
				if k == sshConnectionEnv {
					return tc.sshConnection
				}
				return ""
			}}
			path, err := filepath.Abs("testdata/own.log")
			if err != nil {
				t.Fatal(err)
			}
			settings := json.RawMessage(fmt.Sprintf(`{"file": %q}`, path))
			events, mets, next, err := m.CollectEvents(context.Background(), module.Config{Settings: settings}, Cursor{Own: tc.lastOwn}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if got := eventKeys(events); !slices.Equal(got, tc.want) {
				t.Errorf("events %v\nwant   %v", got, tc.want)
			}
			want := []protocol.Metric{{Name: metrics.AuthlogOwnLines, Value: tc.wantSkipped, Unit: metrics.Count}}
			if !reflect.DeepEqual(mets, want) {
				t.Errorf("metrics %+v, want %+v", mets, want)
			}
			c, err := DecodeCursor(next)
			if err != nil || c.Own != tc.wantOwn || c.Offset == 0 {
				t.Errorf("next cursor %q (%v), want own %q and an offset", next, err, tc.wantOwn)
			}
		})
	}
}

// TestOwnSessionJournal reads testdata/own_journal.jsonl, entries as
// `journalctl -o json` prints those of OpenSSH's sshd and sshd-session.
func TestOwnSessionJournal(t *testing.T) {
	tests := map[string]struct {
		own         ownSessions
		max         int
		want        []string
		wantSkipped int
		wantCursor  string
	}{
		"no own session": {max: 10, want: []string{"cscs@192.0.2.50:41652", "bob@192.0.2.50:41653", "cscs@192.0.2.50:41599"},
			wantCursor: "s=own;i=5"},
		"this round's and the last round's": {own: newOwnSessions("192.0.2.50 41652", "192.0.2.50 41599"), max: 10,
			want: []string{"bob@192.0.2.50:41653"}, wantSkipped: 2, wantCursor: "s=own;i=5"},
		// Left-out records take no place among the max events.
		"capped at one": {own: newOwnSessions("192.0.2.50 41652", ""), max: 1,
			want: []string{"bob@192.0.2.50:41653", "@:"}, wantSkipped: 1, wantCursor: "s=own;i=3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open("testdata/own_journal.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			events, skipped, next, _, err := journalScan{max: tc.max, now: testNow, computer: "here", own: tc.own}.scan(bufio.NewReader(f))
			if err != nil {
				t.Fatal(err)
			}
			if got := eventKeys(events); !slices.Equal(got, tc.want) || skipped != tc.wantSkipped || next != tc.wantCursor {
				t.Errorf("events %v, %d left out, cursor %q; want %v, %d, %q", got, skipped, next, tc.want, tc.wantSkipped, tc.wantCursor)
			}
		})
	}
}

func TestOwnSessionsHas(t *testing.T) {
	own := newOwnSessions("192.0.2.50 41652", "192.0.2.50 41599")
	ev := func(provider, ip, port string) protocol.Event {
		return protocol.Event{Provider: provider, Fields: map[string]string{"source_ip": ip, "source_port": port}}
	}
	tests := map[string]struct {
		ev   protocol.Event
		want bool
	}{
		"this session":            {ev("sshd", "192.0.2.50", "41652"), true},
		"last round's session":    {ev("sshd", "192.0.2.50", "41599"), true},
		"other port":              {ev("sshd", "192.0.2.50", "41653"), false},
		"other address":           {ev("sshd", "192.0.2.51", "41652"), false},
		"not sshd":                {ev("login", "192.0.2.50", "41652"), false},
		"no address":              {ev("sshd", "", ""), false},
		"address and port joined": {ev("sshd", "192.0.2.50 41652", ""), false},
	}
	for name, tc := range tests {
		if got := own.has(tc.ev); got != tc.want {
			t.Errorf("%s: has = %v, want %v", name, got, tc.want)
		}
	}
	if got := newOwnSessions("", ""); got.has(ev("sshd", "192.0.2.50", "41652")) {
		t.Error("no sessions: has = true")
	}
	if got := newOwnSessions("a 1", "a 1"); len(got) != 1 {
		t.Errorf("the same address twice: %v, want it once", got)
	}
}
