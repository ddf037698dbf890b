package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
)

// above is a Condition: the metric exceeds a bound (ok false when the
// metric is missing).
type above struct {
	metric string
	bound  float64
}

func (a above) Holds(_ HostInfo, samples map[string]float64) (bool, bool) {
	v, ok := samples[a.metric]
	return v > a.bound, ok
}

// TestEvaluateForAndRepeat drives rules that must hold for N rounds and
// rules with their own repeat interval, as the overlay writes them.
func TestEvaluateForAndRepeat(t *testing.T) {
	memory := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})[0]
	for3 := memory
	for3.For = 3
	everyRound := memory
	everyRound.Repeat = -1
	expr := Rule{ID: "mem_expr#1", Type: "mem_expr", Metric: "memory.used_percent", Unit: "percent",
		Cond: above{"memory.used_percent", 90}, LimitText: "memory.used_percent > 90", For: 2, Severity: "critical"}
	h := time.Hour
	tests := map[string]struct {
		rule   Rule
		rounds []round
	}{
		"for 3: fires on the third round in a row, a dip restarts the count": {for3, []round{
			{at: 0, value: 95, wantState: State{Since: t0, LastValue: 95, Streak: 1}},
			{at: h, value: 96, wantState: State{Since: t0, LastValue: 96, Streak: 2}},
			{at: 2 * h, value: 50, wantState: State{Since: t0, LastValue: 50}},
			{at: 3 * h, value: 95, wantState: State{Since: t0, LastValue: 95, Streak: 1}},
			{at: 4 * h, value: 95, wantState: State{Since: t0, LastValue: 95, Streak: 2}},
			{at: 5 * h, value: 97, want: Fired, wantState: State{Firing: true, Since: t0.Add(5 * h), LastNotified: t0.Add(5 * h), LastValue: 97}},
			{at: 6 * h, value: 10, want: Resolved, wantState: State{Since: t0.Add(6 * h), LastNotified: t0.Add(6 * h), LastValue: 10}},
		}},
		"own repeat: every round despite the 4h default": {everyRound, []round{
			{at: 0, value: 95, want: Fired, wantState: State{Firing: true, Since: t0, LastNotified: t0, LastValue: 95}},
			{at: time.Minute, value: 95, want: Repeated, wantState: State{Firing: true, Since: t0, LastNotified: t0.Add(time.Minute), LastValue: 95}},
		}},
		"expression rule for 2 rounds": {expr, []round{
			{at: 0, value: 95, wantState: State{Since: t0, LastValue: 95, Streak: 1}},
			{at: h, value: 95, want: Fired, wantState: State{Firing: true, Since: t0.Add(h), LastNotified: t0.Add(h), LastValue: 95}},
			{at: 2 * h, missing: true, wantState: State{Firing: true, Since: t0.Add(h), LastNotified: t0.Add(h), LastValue: 95}},
			{at: 3 * h, value: 20, want: Resolved, wantState: State{Since: t0.Add(3 * h), LastNotified: t0.Add(3 * h), LastValue: 20}},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { runRounds(t, tc.rule, DefaultRepeat, tc.rounds) })
	}
}

func TestComposeShowsExpressionAndSeverity(t *testing.T) {
	r := Rule{ID: "mem_expr#1", Type: "mem_expr", Metric: "memory.used_percent", Unit: "percent",
		Cond: above{"memory.used_percent", 90}, LimitText: "memory.used_percent > 90 && swap.used_percent > 50", Severity: "critical"}
	tr := Transitions{Changes: []Transition{{Kind: Fired, Rule: r, Value: 93, Since: t0, At: t0}}}
	msg, ok := Compose(web, tr, nil, t0)
	if !ok {
		t.Fatal("no message")
	}
	for _, want := range []string{"Limit:    memory.used_percent > 90 && swap.used_percent > 50", "Severity: critical", "mem_expr 93.0%"} {
		if !strings.Contains(msg.Body+msg.Subject, want) {
			t.Errorf("mail lacks %q:\n%s\n%s", want, msg.Subject, msg.Body)
		}
	}
}
