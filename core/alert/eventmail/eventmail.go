// Package eventmail composes the event-log mail that every client with an
// event-log source receives after every round, without condition: the
// events that are new since the last round, or a line saying there were
// none; capped, with a count of what was left out, and how many records of
// the collector's own SSH sessions the agent left out.
package eventmail

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// DefaultMax is how many events one mail lists.
const DefaultMax = 50

// Host is the client the mail is about.
type Host struct {
	IP       string
	Port     int
	Hostname string
	Mail     string
}

// Message is one event-log mail.
type Message struct {
	To, Subject, Body string
	// Listed and Left are how many events the body lists and leaves out.
	Listed, Left int
}

// Compose writes the mail for host's new events (any order; listed oldest
// first); own is how many log records of the collector's own SSH sessions
// the agent left out of them (metric authlog.own_session_lines), said in
// a line of its own when not 0. max <= 0 means DefaultMax.
func Compose(h Host, events []storage.Event, own int, max int, now time.Time) Message {
	if max <= 0 {
		max = DefaultMax
	}
	sorted := append([]storage.Event(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	listed := sorted
	if len(listed) > max {
		listed = listed[len(listed)-max:] // the newest max
	}
	name := clean(h.Hostname, 64)
	who := h.IP
	if name != "" && name != h.IP {
		who = fmt.Sprintf("%s (%s)", name, h.IP)
	}
	m := Message{To: h.Mail, Listed: len(listed), Left: len(sorted) - len(listed)}
	switch len(sorted) {
	case 0:
		m.Subject = fmt.Sprintf("[CSCS] Event log %s: no new events", who)
	case 1:
		m.Subject = fmt.Sprintf("[CSCS] Event log %s: 1 new event", who)
	default:
		m.Subject = fmt.Sprintf("[CSCS] Event log %s: %d new events", who, len(sorted))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "CSCS event log for %s\n\n", who)
	fmt.Fprintf(&b, "Host:     %s\nAddress:  %s:%d\nTime:     %s\n\n", who, h.IP, h.Port, now.UTC().Format("2006-01-02 15:04:05 UTC"))
	if len(sorted) == 0 {
		b.WriteString("No new events since the last round.\n")
		b.WriteString(ownLine(own))
		m.Body = b.String()
		return m
	}
	if m.Left > 0 {
		fmt.Fprintf(&b, "%d new events; the newest %d are listed, %d older ones are left out (all are in the database's events table).\n", len(sorted), len(listed), m.Left)
	} else {
		fmt.Fprintf(&b, "%d new event(s) since the last round.\n", len(sorted))
	}
	b.WriteString(ownLine(own))
	b.WriteString("\n")
	for _, e := range listed {
		fmt.Fprintf(&b, "%s  %s  event %d", e.Time.UTC().Format("2006-01-02 15:04:05"), clean(e.Channel, 64), e.EventID)
		if e.Level != "" {
			fmt.Fprintf(&b, "  %s", clean(e.Level, 32))
		}
		if e.Provider != "" {
			fmt.Fprintf(&b, "  %s", clean(e.Provider, 64))
		}
		b.WriteString("\n")
		if msg := clean(e.Message, 300); msg != "" {
			fmt.Fprintf(&b, "    %s\n", msg)
		}
		if f := fields(e.Fields); f != "" {
			fmt.Fprintf(&b, "    %s\n", f)
		}
	}
	m.Body = b.String()
	return m
}

// ownLine says how many records of the collector's own SSH sessions were
// left out; "" for none.
func ownLine(own int) string {
	switch {
	case own <= 0:
		return ""
	case own == 1:
		return "1 line of the collector's own SSH session was left out.\n"
	}
	return fmt.Sprintf("%d lines of the collector's own SSH sessions were left out.\n", own)
}

// fields lists an event's fields as sorted key=value pairs on one line.
func fields(f map[string]string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		if k != "computer" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if v := clean(f[k], 120); v != "" {
			parts = append(parts, clean(k, 40)+"="+v)
		}
	}
	return clean(strings.Join(parts, " "), 400)
}

// clean makes host-supplied text safe for a plain-text mail: one line, no
// control or bidirectional-override characters, valid UTF-8, at most max
// runes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	out := strings.TrimSpace(b.String())
	if !utf8.ValidString(out) {
		return ""
	}
	return out
}
