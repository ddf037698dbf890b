package alert

import (
	"fmt"
	"strings"
)

// maxErrorLen is where a failed collection's error is cut in mails: it
// carries the fix (an ssh-keyscan line, say), so it gets more room than
// other fields.
const maxErrorLen = 500

// downHeadline is a down transition in a few words: "down — unreachable
// 3 rounds in a row", "down — unreachable for 4h10m", "down — answers
// again after 25m".
func downHeadline(t Transition, host HostInfo) string {
	status := statusText(host)
	switch t.Kind {
	case Fired:
		if t.Rule.For > 1 {
			return fmt.Sprintf("down — %s %d rounds in a row", status, t.Rule.For)
		}
		return "down — " + status
	case Repeated:
		return fmt.Sprintf("down — %s for %s", status, downFor(t))
	}
	return "down — answers again after " + downFor(t)
}

// downSection writes a down transition's part of the body: the round's
// status, the error with its fix, the limit, and since when the host
// fails (or, once resolved, how long it was down).
func downSection(b *strings.Builder, c Transition, host HostInfo) {
	if c.Kind == Resolved {
		field(b, "  ", "Status:", statusText(host)+" (the host answers again)")
	} else {
		field(b, "  ", "Status:", statusText(host))
		if e := cleanText(host.Error, maxErrorLen); e != "" {
			field(b, "  ", "Error:", e)
		}
	}
	field(b, "  ", "Limit:", cleanText(c.Rule.Condition(), maxFieldLen)+" in a row")
	field(b, "  ", "Severity:", cleanText(c.Rule.Severity, maxFieldLen))
	field(b, "  ", "Since:", downSinceText(c))
	field(b, "  ", "Time:", formatTime(c.At))
}

// downSinceText says since when a host fails: the first failed round, and
// for how long it has been, or was, down.
func downSinceText(c Transition) string {
	if c.Since.IsZero() {
		return "unknown"
	}
	switch c.Kind {
	case Fired:
		return formatTime(c.Since) + " (first failed round)"
	case Repeated:
		return formatTime(c.Since) + " (down for " + downFor(c) + ")"
	}
	return formatTime(c.Since) + " (was down for " + downFor(c) + ")"
}

// downFor is how long a host has been down at c's round.
func downFor(c Transition) string {
	if c.Since.IsZero() {
		return "an unknown time"
	}
	return formatSeconds(c.At.Sub(c.Since).Seconds())
}

// statusText is a host's collection status for a mail, e.g.
// "unreachable" or "host_key_unknown".
func statusText(host HostInfo) string {
	if s := cleanText(string(host.Status), maxFieldLen); s != "" {
		return s
	}
	return "unknown"
}
