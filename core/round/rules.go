package round

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/sdk/source"
)

// overlayRules are the overlay's expression rules, compiled once per plan.
type overlayRules struct {
	ov    *overlay.Overlay
	rules map[string]alert.Rule // by group/name
}

// ruleKey names an overlay alert among the overlay's: group/name, or
// name for a top-level alert.
func ruleKey(al overlay.Alert) string {
	if al.Group != "" {
		return al.Group + "/" + al.Name
	}
	return al.Name
}

func newOverlayRules(ov *overlay.Overlay, descs []source.Description) *overlayRules {
	units := map[string]string{}
	for _, d := range descs {
		for _, m := range d.Metrics {
			units[m.Name] = m.Unit
		}
	}
	r := &overlayRules{ov: ov, rules: map[string]alert.Rule{}}
	add := func(al overlay.Alert) {
		sum := sha256.Sum256([]byte(al.Text))
		id := ruleKey(al)
		metric := al.FirstMetric()
		r.rules[id] = alert.Rule{
			ID: id + "#" + hex.EncodeToString(sum[:4]), Type: al.Name, Metric: metric, Unit: units[metric],
			LimitText: al.Text, Cond: condition{al}, Severity: al.Severity, For: al.For, Repeat: al.Repeat,
		}
	}
	for _, al := range ov.Alerts {
		add(al)
	}
	for _, g := range ov.Groups {
		for _, al := range g.Alerts {
			add(al)
		}
	}
	return r
}

// forHost returns the rules of a host in groups.
func (r *overlayRules) forHost(groups []*overlay.Group) []alert.Rule {
	if r == nil {
		return nil
	}
	var out []alert.Rule
	for _, al := range r.ov.AlertsFor(groups) {
		out = append(out, r.rules[ruleKey(al)])
	}
	return out
}

// condition adapts an overlay alert to alert.Condition.
type condition struct{ al overlay.Alert }

func (c condition) Holds(h alert.HostInfo, samples map[string]float64) (bool, bool) {
	return c.al.Holds(overlay.Facts{IP: h.IP, Port: h.Port, Hostname: h.Hostname, OS: h.OS, Arch: h.Arch, Labels: h.Labels}, samples)
}

// Metrics are the metrics the condition names, in order.
func (c condition) Metrics() []string { return c.al.Metrics() }

// worstSeverity is the most severe severity among a mail's rules.
func worstSeverity(tr alert.Transitions) string {
	worst := "info"
	for _, c := range tr.Changes {
		sev := c.Rule.Severity
		if sev == "" {
			sev = "warning"
		}
		if overlay.SeverityRank(sev) > overlay.SeverityRank(worst) {
			worst = sev
		}
	}
	return worst
}

// downRule is the down rule of a client with config.xml's limit own in
// groups: own when set, else the last group's down_after, else
// alert.DefaultDownAfter; ok is false when DOWN alerts are off for it.
func downRule(own alert.DownLimit, groups []*overlay.Group) (alert.Rule, bool) {
	n := alert.DefaultDownAfter
	if own.Set {
		n = own.Rounds
	} else if g, ok := overlay.DownAfter(groups); ok {
		n = g
	}
	if n <= 0 {
		return alert.Rule{}, false
	}
	return alert.DownRule(n), true
}
