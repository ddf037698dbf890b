package alert

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetiredText is what a mail and the storages say of a rule that fired
// and is no longer configured.
const RetiredText = "rule removed or changed"

// Retired returns the transitions of the rules firing on host (firing
// holds their stored states, by rule ID) that are no longer among its
// rules: removed from the configuration, or changed, since a changed rule
// has a new ID. Each resolves, with Retired set, and stops firing; without
// this a rule nothing evaluates any more would fire for ever. Call it for
// a host whose rules were all evaluated this round (a collected host).
//
// The rules of skippedTypes (alert types whose source is left out of the
// round) are not evaluated this round but still configured: their states
// are kept.
//
// rules are the host's rules after ForSeries. A rule on one labelled
// sample that fired resolves the same way when the host no longer
// reports that sample but reports others of its metric (a file system
// unmounted: the reason is GoneText); its state is kept when the host
// reported no sample of the metric this round (the source failed).
func Retired(now time.Time, host HostInfo, firing map[string]State, rules []Rule, skippedTypes []string) Transitions {
	current := make(map[string]bool, len(rules))
	expanded := make(map[string]bool)
	for _, r := range rules {
		current[r.ID] = true
		if len(r.Labels) > 0 {
			base, _ := baseID(r.ID)
			expanded[base] = true
		}
	}
	var tr Transitions
	for _, id := range slices.Sorted(maps.Keys(firing)) {
		prev := firing[id]
		if current[id] || !prev.Firing || slices.ContainsFunc(skippedTypes, func(typ string) bool { return isRuleOfType(id, typ) }) {
			continue
		}
		reason := RetiredText
		if base, ok := baseID(id); ok {
			if current[base] {
				continue // configured, and no sample of its metric this round
			}
			if expanded[base] {
				reason = GoneText
			}
		}
		next := prev
		next.Firing, next.Since, next.LastNotified, next.Streak = false, now, now, 0
		tr.Updates = append(tr.Updates, Update{HostIP: host.IP, HostPort: host.Port, RuleID: id, State: next})
		tr.Changes = append(tr.Changes, Transition{
			Kind: Resolved, Rule: retiredRule(id, reason), Value: prev.LastValue, Since: prev.Since, At: now, Retired: true,
		})
	}
	return tr
}

// isRuleOfType reports whether id is the ID of a config.xml rule of
// alert type typ (see ruleID: the type, then the operator).
func isRuleOfType(id, typ string) bool {
	rest, ok := strings.CutPrefix(id, typ)
	return ok && (strings.HasPrefix(rest, "<") || strings.HasPrefix(rest, ">"))
}

// retiredRule stands for a rule known only by its ID, that resolves for
// reason: its type is the ID without the overlay's "#checksum" ("cpu>95%",
// "web/busy", "down") and without the labels of a rule on one labelled
// sample, which become its Labels.
func retiredRule(id, reason string) Rule {
	base, _ := baseID(id)
	labels := parseLabels(id[len(base):])
	name, _, _ := strings.Cut(base, "#")
	return Rule{ID: id, Type: name, LimitText: reason, Labels: labels}
}

// parseLabels reads labels as labelSuffix writes them ({name="value",…});
// nil for text that is not such a list.
func parseLabels(text string) map[string]string {
	rest, ok := strings.CutPrefix(text, "{")
	if !ok || !strings.HasSuffix(rest, "}") {
		return nil
	}
	rest = strings.TrimSuffix(rest, "}")
	labels := make(map[string]string)
	for rest != "" {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil
		}
		quoted, err := strconv.QuotedPrefix(after)
		if err != nil {
			return nil
		}
		labels[name], _ = strconv.Unquote(quoted)
		rest = strings.TrimPrefix(after[len(quoted):], ",")
	}
	return labels
}

// Merge appends the changes and updates of other to t.
func (t *Transitions) Merge(other Transitions) {
	t.Changes = append(t.Changes, other.Changes...)
	t.Updates = append(t.Updates, other.Updates...)
}
