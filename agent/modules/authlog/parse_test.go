package authlog

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testNow = time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)

func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestParseAuthLogLines(t *testing.T) {
	lines := fixtureLines(t, "auth.log")
	tests := map[string]struct {
		line     int
		ok       bool
		id       int
		provider string
		level    string
		fields   map[string]string
		time     time.Time
	}{
		"sshd accepted, BSD syslog": {line: 0, ok: true, id: EventLoginAccepted, provider: "sshd", level: "information",
			fields: map[string]string{"user": "alice", "source_ip": "192.0.2.10", "source_port": "50022", "method": "publickey", "computer": "web1"},
			time:   time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC)},
		"sshd failed invalid user, RFC 3339": {line: 1, ok: true, id: EventLoginFailed, provider: "sshd", level: "warning",
			fields: map[string]string{"user": "admin", "source_ip": "198.51.100.7", "method": "password", "computer": "web1"},
			time:   time.Date(2024, 3, 4, 5, 6, 7, 123456000, time.UTC)},
		"sshd connection closed is no event": {line: 2},
		"sudo command": {line: 3, ok: true, id: EventSudoCommand, provider: "sudo", level: "information",
			fields: map[string]string{"user": "alice", "tty": "pts/0", "target_user": "root", "command": "/usr/bin/id", "cwd": "/home/alice"}},
		"sudo bad password": {line: 4, ok: true, id: EventSudoFailed, provider: "sudo", level: "warning",
			fields: map[string]string{"user": "bob", "command": "/bin/sh"}},
		"login failed": {line: 5, ok: true, id: EventLoginFailed, provider: "login",
			fields: map[string]string{"user": "carol", "tty": "/dev/tty1"}},
		"root login on console": {line: 6, ok: true, id: EventLoginAccepted, provider: "login",
			fields: map[string]string{"user": "root", "tty": "tty1"}},
		"cron is ignored": {line: 7},
		"bare sshd -e line": {line: 8, ok: true, id: EventLoginFailed, provider: "sshd",
			fields: map[string]string{"user": "cscs-test", "source_ip": "127.0.0.1", "computer": "here"}, time: testNow},
		"bare invalid user": {line: 9, ok: true, id: EventLoginFailed, provider: "sshd",
			fields: map[string]string{"user": "eve", "source_ip": "203.0.113.5", "method": "invalid_user"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev, ok := toEvent(parseLine(lines[tc.line], testNow, time.UTC), 7, "here")
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tc.ok, ev)
			}
			if !ok {
				return
			}
			if ev.Channel != "auth" || ev.RecordID != 7 || ev.EventID != tc.id || ev.Provider != tc.provider {
				t.Errorf("event %+v, want id %d provider %s", ev, tc.id, tc.provider)
			}
			if tc.level != "" && ev.Level != tc.level {
				t.Errorf("level %q, want %q", ev.Level, tc.level)
			}
			for k, want := range tc.fields {
				if ev.Fields[k] != want {
					t.Errorf("field %s = %q, want %q", k, ev.Fields[k], want)
				}
			}
			if !tc.time.IsZero() && !ev.Time.Equal(tc.time) {
				t.Errorf("time %v, want %v", ev.Time, tc.time)
			}
			if ev.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestHostileLines(t *testing.T) {
	for i, line := range fixtureLines(t, "hostile.log") {
		ev, ok := toEvent(parseLine(line, testNow, time.UTC), 1, "here")
		if !ok {
			continue
		}
		for k, v := range map[string]string{"message": ev.Message, "user": ev.Fields["user"], "command": ev.Fields["command"]} {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\x1b\x07\x00") {
				t.Errorf("line %d: %s %q is not clean", i, k, v)
			}
		}
		if len(ev.Message) > maxMessage || len(ev.Fields["command"]) > maxField {
			t.Errorf("line %d: message %d bytes, command %d bytes: not capped", i, len(ev.Message), len(ev.Fields["command"]))
		}
	}
	if ev, _ := toEvent(parseLine(fixtureLines(t, "hostile.log")[0], testNow, time.UTC), 1, ""); ev.Fields["user"] != " [31mroot " {
		t.Errorf("escape sequence user = %q", ev.Fields["user"])
	}
}

func TestBSDTimeYearRollover(t *testing.T) {
	jan := time.Date(2025, 1, 1, 0, 10, 0, 0, time.UTC)
	if got := bsdTime("Dec 31 23:59:00", jan, time.UTC); got.Year() != 2024 {
		t.Errorf("Dec 31 read on Jan 1 2025 gave %v, want 2024", got)
	}
}

func TestScanJournal(t *testing.T) {
	tests := map[string]struct {
		max        int
		wantIDs    []int
		wantCursor string
		truncated  bool
	}{
		"all":             {max: 500, wantIDs: []int{1, 2, 3}, wantCursor: "s=abc;i=5"},
		"capped at one":   {max: 1, wantIDs: []int{1, EventTruncated}, wantCursor: "s=abc;i=1", truncated: true},
		"capped at three": {max: 3, wantIDs: []int{1, 2, 3}, wantCursor: "s=abc;i=5"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open("testdata/journal.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			events, _, next, truncated, err := journalScan{cursor: "old", max: tc.max, now: testNow, computer: "here"}.scan(bufio.NewReader(f))
			if err != nil {
				t.Fatal(err)
			}
			var ids []int
			for _, e := range events {
				ids = append(ids, e.EventID)
			}
			if !equalInts(ids, tc.wantIDs) || next != tc.wantCursor || truncated != tc.truncated {
				t.Fatalf("ids %v cursor %q truncated %v, want %v %q %v", ids, next, truncated, tc.wantIDs, tc.wantCursor, tc.truncated)
			}
			if events[0].Fields["computer"] != "db1" || events[0].RecordID != recordID("journal:s=abc;i=1") ||
				!events[0].Time.Equal(time.Unix(1709528767, 0)) {
				t.Errorf("first event %+v", events[0])
			}
		})
	}
	if _, _, next, _, err := (journalScan{cursor: "old", max: 5, now: testNow}).scan(strings.NewReader("not json\n")); err == nil || next != "old" {
		t.Errorf("garbage: err %v next %q, want an error and the old cursor", err, next)
	}
}

func TestJournalArgs(t *testing.T) {
	first := strings.Join(journalArgs(""), " ")
	if !strings.Contains(first, "--since=-24h") || strings.Contains(first, "--after-cursor") {
		t.Errorf("first round args %q", first)
	}
	next := strings.Join(journalArgs("s=1;i=2"), " ")
	if !strings.Contains(next, "--after-cursor=s=1;i=2") || strings.Contains(next, "--since") || !strings.Contains(next, "SYSLOG_IDENTIFIER=sudo") {
		t.Errorf("next round args %q", next)
	}
}

func equalInts(a, b []int) bool { return fmtInts(a) == fmtInts(b) }
