package alert

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Message is the mail about one client's round.
type Message struct {
	// To is the client's mail attribute; empty when the client has none,
	// in which case the caller should log the message instead of sending.
	To      string
	Subject string
	// Body is plain UTF-8 text, lines ending in "\n".
	Body string
	// Worst is the transition the subject names: Fired before Repeated
	// before Resolved, then the one farthest beyond its limit.
	Worst Transition
	// Count is the number of transitions the mail tells about.
	Count int
}

// Compose writes the one mail for host about the transitions of a round;
// ok is false when nothing fired, repeated or resolved. recent holds, per
// metric, the latest values (see Recent); the mail shows up to
// RecentCount of them, oldest first, ending with the value of this round.
// now is the round's time.
//
// Everything the host supplied (its hostname) is treated as hostile: control
// and invisible characters are removed and its length is capped.
//
// The subject reads
//
//	[CSCS] FIRING web-01 (10.0.0.5): memory 93.2% > 90% (+2 more)
func Compose(host HostInfo, tr Transitions, recent map[string][]TimedValue, now time.Time) (Message, bool) {
	if tr.Empty() {
		return Message{}, false
	}
	changes := slices.Clone(tr.Changes)
	slices.SortStableFunc(changes, worseFirst)
	return Message{
		To:      host.Mail,
		Subject: subject(host, changes),
		Body:    body(host, changes, recent, now),
		Worst:   changes[0],
		Count:   len(changes),
	}, true
}

// worseFirst orders transitions for the subject and the body.
func worseFirst(a, b Transition) int {
	return cmp.Or(
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(excess(b), excess(a)),
		cmp.Compare(a.Rule.ID, b.Rule.ID),
	)
}

// excess is how far t's value is beyond its limit, relative to the limit
// (absolute for a zero limit); negative when within it.
func excess(t Transition) float64 {
	d := t.Value - t.Rule.Threshold
	if t.Rule.Op == Below || t.Rule.Op == AtMost {
		d = -d
	}
	if th := math.Abs(t.Rule.Threshold); th > 0 {
		d /= th
	}
	return d
}

func subject(host HostInfo, changes []Transition) string {
	w := changes[0]
	s := fmt.Sprintf("[CSCS] %s %s: %s", w.Kind, hostLabel(host), headline(w, host))
	if n := len(changes) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more)", n)
	}
	return s
}

// headline is one transition in a few words: "memory 93.2% > 90%", or
// "memory 42.0% (was > 90%)" once resolved.
func headline(t Transition, host HostInfo) string {
	if t.Retired {
		typ := cleanText(t.Rule.Type, maxFieldLen)
		if len(t.Rule.Labels) > 0 {
			typ += " " + SeriesLabel(t.Rule.Labels)
		}
		return fmt.Sprintf("%s (%s)", typ, t.Rule.LimitText)
	}
	if t.Rule.IsDown() {
		return downHeadline(t, host)
	}
	typ := cleanText(t.Rule.Type, maxFieldLen)
	if len(t.Rule.Labels) > 0 {
		typ += " " + SeriesLabel(t.Rule.Labels)
	}
	value := formatValue(t.Value, t.Rule.Unit)
	cond := cleanText(t.Rule.Condition(), maxFieldLen)
	if t.Kind == Resolved {
		return fmt.Sprintf("%s %s (was %s)", typ, value, cond)
	}
	return fmt.Sprintf("%s %s %s", typ, value, cond)
}

// hostLabel names a host as "web-01 (10.0.0.5)", or by its address alone
// when it reported no hostname.
func hostLabel(host HostInfo) string {
	addr := cleanText(host.IP, maxFieldLen)
	if host.Port != 0 && host.Port != 22 {
		addr = net.JoinHostPort(addr, strconv.Itoa(host.Port))
	}
	name := cleanText(host.Hostname, maxHostnameLen)
	if name == "" || name == addr {
		return addr
	}
	return name + " (" + addr + ")"
}

// labelWidth aligns the values in the body.
const labelWidth = 10

func body(host HostInfo, changes []Transition, recent map[string][]TimedValue, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CSCS alerts for %s: %s\n\n", hostLabel(host), tally(changes))

	hostname := cleanText(host.Hostname, maxHostnameLen)
	if hostname == "" {
		hostname = "(not reported)"
	}
	field(&b, "", "Host:", hostLabel(host))
	field(&b, "", "Address:", net.JoinHostPort(cleanText(host.IP, maxFieldLen), strconv.Itoa(host.Port)))
	field(&b, "", "Hostname:", hostname)
	field(&b, "", "Time:", formatTime(now))

	for _, c := range changes {
		unit := c.Rule.Unit
		fmt.Fprintf(&b, "\n%s %s\n", c.Kind, cleanText(c.Rule.Type, maxFieldLen))
		if c.Retired {
			reason := "the rule was removed from the configuration or changed"
			if c.Rule.LimitText == GoneText {
				reason = "the host no longer reports it (a file system unmounted, an interface removed)"
			}
			if len(c.Rule.Labels) > 0 {
				field(&b, "  ", "Labels:", LabelsText(c.Rule.Labels))
			}
			field(&b, "  ", "Reason:", reason)
			field(&b, "  ", "Since:", since(c))
			field(&b, "  ", "Time:", formatTime(c.At))
			continue
		}
		if c.Rule.IsDown() {
			downSection(&b, c, host)
			continue
		}
		field(&b, "  ", "Metric:", cleanText(c.Rule.Metric, maxFieldLen))
		if len(c.Rule.Labels) > 0 {
			field(&b, "  ", "Labels:", LabelsText(c.Rule.Labels))
		}
		field(&b, "  ", "Value:", formatValue(c.Value, unit))
		field(&b, "  ", "Limit:", cleanText(c.Rule.Condition(), maxFieldLen))
		if c.Rule.Severity != "" {
			field(&b, "  ", "Severity:", cleanText(c.Rule.Severity, maxFieldLen))
		}
		field(&b, "  ", "Since:", since(c))
		field(&b, "  ", "Time:", formatTime(c.At))
		for i, v := range lastValues(c, recent[c.Rule.SeriesMetric()]) {
			label := ""
			if i == 0 {
				label = "Recent:"
			}
			field(&b, "  ", label, formatTime(v.Time)+"  "+formatValue(v.Value, unit))
		}
	}
	return b.String()
}

// field writes one aligned "Label:   value" line.
func field(b *strings.Builder, indent, label, value string) {
	fmt.Fprintf(b, "%s%-*s%s\n", indent, labelWidth, label, value)
}

// tally counts transitions by kind: "2 firing, 1 resolved".
func tally(changes []Transition) string {
	counts := make(map[Kind]int)
	for _, c := range changes {
		counts[c.Kind]++
	}
	var parts []string
	for _, k := range []Kind{Fired, Repeated, Resolved} {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(k.String())))
		}
	}
	return strings.Join(parts, ", ")
}

// since says when a transition's firing started and for how long it
// lasted.
func since(c Transition) string {
	if c.Since.IsZero() {
		return "unknown"
	}
	d := formatSeconds(c.At.Sub(c.Since).Seconds())
	switch c.Kind {
	case Fired:
		return formatTime(c.Since)
	case Repeated:
		return formatTime(c.Since) + " (firing for " + d + ")"
	}
	return formatTime(c.Since) + " (resolved after " + d + ")"
}

// lastValues are up to RecentCount values of c's metric, oldest first,
// ending with the value of c's round.
func lastValues(c Transition, recent []TimedValue) []TimedValue {
	vs := slices.Clone(recent)
	slices.SortStableFunc(vs, func(a, b TimedValue) int { return a.Time.Compare(b.Time) })
	if !slices.ContainsFunc(vs, func(v TimedValue) bool { return v.Time.Equal(c.At) }) {
		vs = append(vs, TimedValue{Time: c.At, Value: c.Value})
		slices.SortStableFunc(vs, func(a, b TimedValue) int { return a.Time.Compare(b.Time) })
	}
	if len(vs) > RecentCount {
		vs = vs[len(vs)-RecentCount:]
	}
	return vs
}
