package alert

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/internal/suggest"
)

// Rule is one compiled <alert type limit> of a client.
type Rule struct {
	// ID names the rule in the alert state: the type, comparison and
	// threshold in the metric's base unit, e.g. "memory>90" or
	// "uptime<600". It does not depend on the host or on the rule's place
	// in config.xml, so reordering rules (or writing 10m as 600s) keeps
	// their state; changing the limit starts a new state.
	ID string
	// Type is the alert type, e.g. "memory".
	Type string
	// Metric is the metric compared, e.g. "memory.used_percent".
	Metric string
	// Unit is the metric's declared unit ("percent", "bytes", "seconds",
	// "count" or "").
	Unit string
	// Op and Threshold are the comparison: the rule fires while
	// value Op Threshold; Threshold is in the metric's base unit (percent
	// points, bytes, seconds).
	Op        Op
	Threshold float64
	// LimitText is the limit as written, e.g. "90%" or "<10m".
	LimitText string
	// Pos is where the <alert> element is.
	Pos config.Pos

	// Cond, when set, decides the rule instead of Op and Threshold: an
	// expression rule of the overlay. Metric is then the metric its mail
	// shows, and LimitText the condition as written.
	Cond Condition
	// Severity is "info", "warning" or "critical" ("" reads as warning).
	Severity string
	// For is how many rounds in a row the rule must hold before it fires
	// (0 and 1: at once).
	For int
	// Repeat, when not zero, replaces the global repeat interval for this
	// rule; negative means every round.
	Repeat time.Duration
	// Labels, for a rule on one labelled sample of its metric (one file
	// system, one interface; see ForSeries), are that sample's labels;
	// nil otherwise.
	Labels map[string]string
}

// Condition is an expression over one host's samples.
type Condition interface {
	// Holds evaluates the condition; ok is false when it cannot be
	// decided this round (a metric it needs is missing), and the rule
	// then neither fires nor resolves.
	Holds(host HostInfo, samples map[string]float64) (holds, ok bool)
}

// Fires reports whether value breaks the rule.
func (r Rule) Fires(value float64) bool { return r.Op.Holds(value, r.Threshold) }

// Condition is the rule as a person reads it: "> 90%", "< 10m", an
// expression rule's condition, or "down 3 rounds" for the down rule.
func (r Rule) Condition() string {
	if r.Cond != nil || r.IsDown() || r.Op == "" { // an expression, down, or retired
		return r.LimitText
	}
	bound := strings.TrimSpace(r.LimitText)
	for _, op := range []Op{AtLeast, AtMost, Above, Below} {
		if rest, ok := strings.CutPrefix(bound, string(op)); ok {
			bound = strings.TrimSpace(rest)
			break
		}
	}
	return string(r.Op) + " " + bound
}

// Compile turns a client's <alert> elements into rules, using the alert
// types the sources declare (see TypesFrom). An alert whose type is
// unknown or whose limit does not parse or does not fit the metric's unit
// yields an Error diagnostic at the alert's position and no rule; the
// other alerts still compile. An alert whose limit the inventory loader
// already reported (config.Alert.LimitReported) has only its type
// checked. A rule equal to an earlier one (same ID) is dropped with a
// Warning. Alerts of the built-in type DownType are left to CompileDown.
func Compile(alerts []config.Alert, types map[string]Type) ([]Rule, config.Diagnostics) {
	var (
		rules []Rule
		diags config.Diagnostics
		seen  = make(map[string]Rule)
	)
	for _, a := range alerts {
		if a.Type == DownType {
			continue
		}
		t, ok := types[a.Type]
		if !ok {
			diags = append(diags, unknownType(a, types))
			continue
		}
		if a.LimitReported {
			continue
		}
		field := "alert " + a.Type + " attribute limit"
		lim, findings := parseLimit(a.Limit, t)
		failed := false
		for _, f := range findings {
			diags = append(diags, config.Diagnostic{Severity: f.severity, Pos: a.Pos, Field: field, Message: f.message, Fix: f.fix})
			failed = failed || f.severity == config.Error
		}
		if failed {
			continue
		}
		r := Rule{
			ID:        ruleID(t.Name, lim),
			Type:      t.Name,
			Metric:    t.Metric,
			Unit:      t.Unit,
			Op:        lim.op,
			Threshold: lim.threshold,
			LimitText: strings.TrimSpace(a.Limit),
			For:       a.For,
			Pos:       a.Pos,
		}
		if first, dup := seen[r.ID]; dup {
			diags = append(diags, config.Diagnostic{Severity: config.Warning, Pos: a.Pos, Field: "alert " + a.Type,
				Message: fmt.Sprintf("the same rule as on line %d (%s %s)", first.Pos.Line, first.Type, first.Condition()),
				Fix:     "remove one of them"})
			continue
		}
		seen[r.ID] = r
		rules = append(rules, r)
	}
	diags.Sort()
	return rules, diags
}

// ruleID is the stable name of a rule of type typ with limit lim.
func ruleID(typ string, lim limit) string {
	return typ + string(lim.op) + strconv.FormatFloat(lim.threshold, 'f', -1, 64)
}

// unknownType is the diagnostic for an alert whose type no source
// declares.
func unknownType(a config.Alert, types map[string]Type) config.Diagnostic {
	d := config.Diagnostic{Severity: config.Error, Pos: a.Pos, Field: "alert attribute type",
		Message: fmt.Sprintf("unknown alert type %q", a.Type)}
	known := TypeNames(types)
	if len(known) > 0 {
		known = append(known, DownType)
		slices.Sort(known)
	}
	switch {
	case len(known) == 0:
		d.Fix = "no source declares alert types; check that the sources started, or remove the alert"
	case suggest.Closest(a.Type, known) != "":
		d.Fix = "did you mean " + suggest.Closest(a.Type, known) + "? known alert types: " + strings.Join(known, ", ")
	default:
		d.Fix = "use one of the known alert types: " + strings.Join(known, ", ")
	}
	return d
}
