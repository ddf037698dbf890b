package authlog

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// addLines adds every line of the fixture files as a seed.
func addLines(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			f.Add(line)
		}
	}
}

// checkEvent checks what every event of the module promises, whatever the
// line: a known id, level and provider, a UTC time a report can encode,
// and text that is valid UTF-8 without control characters, within the
// caps.
func checkEvent(t *testing.T, ev protocol.Event) {
	t.Helper()
	clean := func(s string, max int) bool {
		return len(s) <= max && utf8.ValidString(s) &&
			!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' })
	}
	if ev.Channel != Channel || !slices.Contains([]int{EventLoginAccepted, EventLoginFailed, EventSudoCommand, EventSudoFailed}, ev.EventID) ||
		(ev.Level != levelInfo && ev.Level != levelWarning) || !slices.Contains([]string{"sshd", "sudo", "login"}, ev.Provider) {
		t.Errorf("event %+v: channel, id, level or provider unknown", ev)
	}
	if ev.Time.IsZero() || ev.Time.Location() != time.UTC {
		t.Errorf("event time %v is not a UTC time", ev.Time)
	}
	if !clean(ev.Message, maxMessage) {
		t.Errorf("message %q is not clean text of at most %d bytes", ev.Message, maxMessage)
	}
	if _, ok := ev.Fields["computer"]; !ok {
		t.Errorf("event without a computer: %v", ev.Fields)
	}
	for k, v := range ev.Fields {
		if !clean(v, maxField) {
			t.Errorf("field %s = %q is not clean text of at most %d bytes", k, v, maxField)
		}
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Errorf("the event cannot be put in a report: %v", err)
	}
}

// FuzzParseAuthLine parses fuzzed auth log lines (syslog, RFC 3339
// syslog, bare sshd). Properties: no panic; every record has a UTC time;
// an event has the properties of checkEvent; parsing is deterministic.
func FuzzParseAuthLine(f *testing.F) {
	addLines(f, "auth.log", "hostile.log")
	loc := time.FixedZone("far east", 14*3600)
	f.Fuzz(func(t *testing.T, line string) {
		for _, l := range []*time.Location{time.UTC, loc} {
			rec := parseLine(line, testNow, l)
			if rec.time.IsZero() || rec.time.Location() != time.UTC {
				t.Errorf("record time %v is not a UTC time", rec.time)
			}
			ev, ok := toEvent(rec, recordID(line), "here")
			if !ok {
				continue
			}
			checkEvent(t, ev)
			if ev2, _ := toEvent(parseLine(line, testNow, l), recordID(line), "here"); !ev.Time.Equal(ev2.Time) || ev.Message != ev2.Message {
				t.Errorf("a second parse differs: %+v, %+v", ev, ev2)
			}
		}
	})
}

// FuzzScanJournal reads fuzzed `journalctl -o json` output. Properties:
// no panic; on an error no event and the old cursor; else at most max
// events and a truncation event, a cursor (the old one or an entry's
// __CURSOR, never empty), and every event has the properties of
// checkEvent.
func FuzzScanJournal(f *testing.F) {
	data, err := os.ReadFile("testdata/journal.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		const max = 3
		events, own, next, truncated, err := journalScan{cursor: "old", max: max, now: testNow, computer: "here"}.scan(bytes.NewReader(out))
		if err != nil {
			if events != nil || own != 0 || next != "old" || truncated {
				t.Errorf("error %v with %d events (%d own), cursor %q, truncated %v", err, len(events), own, next, truncated)
			}
			return
		}
		if len(events) > max+1 || truncated != (len(events) > 0 && events[len(events)-1].EventID == EventTruncated) {
			t.Errorf("%d events, truncated %v", len(events), truncated)
		}
		if next == "" {
			t.Errorf("the cursor is lost")
		}
		for _, ev := range events {
			if ev.EventID != EventTruncated {
				checkEvent(t, ev)
			}
		}
	})
}

// FuzzDecodeCursor decodes fuzzed cursors (the core sends back what the
// module returned). Properties: no panic; a decoded cursor has no
// negative offset and encodes to text that decodes to the same cursor.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []Cursor{{}, {Journal: "s=abc;i=5"}, {File: "/var/log/auth.log", Inode: 42, Offset: 1 << 40}} {
		f.Add(c.Encode())
	}
	f.Add(`{"offset":-1}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			if c != (Cursor{}) {
				t.Errorf("cursor %+v returned with error %v", c, err)
			}
			return
		}
		if c.Offset < 0 {
			t.Errorf("cursor with offset %d accepted", c.Offset)
		}
		again, err := DecodeCursor(c.Encode())
		if err != nil || again != c {
			t.Errorf("cursor %+v encodes to %q, which decodes to %+v (%v)", c, c.Encode(), again, err)
		}
	})
}

// FuzzParseSettings parses fuzzed module settings (from an operator's
// overlay, through the core). Properties: no panic; settings or an error;
// an error is valid UTF-8 without control characters (the agent's
// protocol.ErrorText makes it fit a report); accepted settings are within
// their bounds, with an absolute file or none.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{"", "null", `{}`, `{"file":"/var/log/secure","max_events":5000,"first_bytes":8388608}`,
		`{"max_events":-1}`, `{"first_bytes":9000000}`, `{"file":"auth.log"}`, `{"file":"\u0000\ufffd"}`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseSettings(raw)
		if err != nil {
			if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
				t.Errorf("error is not UTF-8 text without control characters: %q", msg)
			}
			if s != (Settings{}) {
				t.Errorf("settings %+v with error %v", s, err)
			}
			return
		}
		if s.MaxEvents < 1 || s.MaxEvents > MaxMaxEvents || s.FirstBytes < 1 || s.FirstBytes > MaxFirstBytes ||
			(s.File != "" && !strings.HasPrefix(s.File, "/")) {
			t.Errorf("settings accepted as %+v", s)
		}
	})
}
