package eventmail

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func ev(i int) storage.Event {
	return storage.Event{Channel: "auth", RecordID: uint64(i), Time: now.Add(time.Duration(i-100) * time.Minute),
		EventID: 2, Level: "audit_failure", Provider: "sshd", Message: fmt.Sprintf("Failed password for root (%d)", i),
		Fields: map[string]string{"user": "root", "source_ip": "10.0.0.9", "computer": "web-01"}}
}

func TestCompose(t *testing.T) {
	host := Host{IP: "10.0.0.5", Port: 22, Hostname: "web-01", Mail: "ops@example.com"}
	many := make([]storage.Event, 0, 60)
	for i := 60; i > 0; i-- { // newest first on purpose
		many = append(many, ev(i))
	}
	hostile := ev(1)
	hostile.Message = "evil\r\nBcc: victim@example.com\x1b[31m\u202egpj.exe"
	hostile.Fields = map[string]string{"user": "a\nb"}
	tests := map[string]struct {
		events                []storage.Event
		own                   int
		subject               string
		listed, left          int
		contains, notContains []string
	}{
		"none": {nil, 0, "[CSCS] Event log web-01 (10.0.0.5): no new events", 0, 0,
			[]string{"No new events since the last round."}, []string{"collector's own"}},
		"one": {[]storage.Event{ev(1)}, 0, "[CSCS] Event log web-01 (10.0.0.5): 1 new event", 1, 0,
			[]string{"event 2  audit_failure  sshd", "Failed password for root (1)", "source_ip=10.0.0.9 user=root"}, []string{"computer=", "collector's own"}},
		"capped": {many, 0, "[CSCS] Event log web-01 (10.0.0.5): 60 new events", 50, 10,
			[]string{"the newest 50 are listed, 10 older ones are left out", "(60)"}, []string{"(10)\n"}},
		"hostile": {[]storage.Event{hostile}, 0, "[CSCS] Event log web-01 (10.0.0.5): 1 new event", 1, 0,
			[]string{"evil  Bcc: victim@example.com[31mgpj.exe", "user=a b"}, []string{"\x1b", "\u202e", "\r"}},
		"only the collector's own login": {nil, 1, "[CSCS] Event log web-01 (10.0.0.5): no new events", 0, 0,
			[]string{"No new events since the last round.\n1 line of the collector's own SSH session was left out.\n"}, nil},
		"events and the collector's own lines": {[]storage.Event{ev(1)}, 3, "[CSCS] Event log web-01 (10.0.0.5): 1 new event", 1, 0,
			[]string{"1 new event(s) since the last round.\n3 lines of the collector's own SSH sessions were left out.\n\n", "Failed password for root (1)"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := Compose(host, tc.events, tc.own, 0, now)
			if m.Subject != tc.subject || m.Listed != tc.listed || m.Left != tc.left || m.To != "ops@example.com" {
				t.Fatalf("got subject %q listed %d left %d to %q", m.Subject, m.Listed, m.Left, m.To)
			}
			for _, want := range tc.contains {
				if !strings.Contains(m.Body, want) {
					t.Errorf("body lacks %q:\n%s", want, m.Body)
				}
			}
			for _, bad := range tc.notContains {
				if strings.Contains(m.Body, bad) {
					t.Errorf("body contains %q:\n%s", bad, m.Body)
				}
			}
		})
	}
	// Listed oldest first.
	m := Compose(host, many, 0, 0, now)
	if strings.Index(m.Body, "(11)") > strings.Index(m.Body, "(60)") {
		t.Error("events are not listed oldest first")
	}
}
