package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// downRound is one round of a host in a down scenario.
type downRound struct {
	status storage.Status
	want   Kind // 0 for nothing to mail
	// written says whether the round writes the down rule's state.
	written bool
	// wantState is the stored state after the round.
	wantState State
}

// TestDownRuleEvaluate: the down rule counts failed rounds in a row
// through the rule's For streak, fires exactly at round N, is not mailed
// again within the repeat interval, resolves when the host answers, skips
// cancelled rounds, and does not rewrite the unchanged state of a healthy
// host.
func TestDownRuleEvaluate(t *testing.T) {
	const (
		ok          = storage.StatusOK
		unreachable = storage.StatusUnreachable
		cancelled   = storage.StatusCancelled
	)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 10 * time.Minute) }
	healthy := func(since int) State { return State{Since: at(since), LastValue: 1} }
	pending := func(since, streak int) State { return State{Since: at(since), Streak: streak} }
	down := func(since, notified int) State {
		return State{Firing: true, Since: at(since), LastNotified: at(notified)}
	}
	resolved := func(since int) State { return State{Since: at(since), LastNotified: at(since), LastValue: 1} }
	tests := map[string]struct {
		rule   Rule
		rounds []downRound
	}{
		"fires at round 3, not before; resolves": {DownRule(3), []downRound{
			{status: ok, written: true, wantState: healthy(0)},
			{status: ok, wantState: healthy(0)}, // unchanged: not written
			{status: unreachable, written: true, wantState: pending(2, 1)},
			{status: storage.StatusTimeout, written: true, wantState: pending(2, 2)},
			{status: storage.StatusAuthFailed, want: Fired, written: true, wantState: down(2, 4)},
			{status: unreachable, wantState: down(2, 4)}, // still firing, not due: unchanged
			{status: ok, want: Resolved, written: true, wantState: resolved(6)},
			{status: ok, wantState: resolved(6)},
		}},
		"a round that answers restarts the count": {DownRule(2), []downRound{
			{status: unreachable, written: true, wantState: pending(0, 1)},
			{status: ok, written: true, wantState: State{Since: at(0), LastValue: 1}},
			{status: unreachable, written: true, wantState: pending(2, 1)},
			{status: unreachable, want: Fired, written: true, wantState: down(2, 3)},
		}},
		"cancelled rounds say nothing about the host": {DownRule(2), []downRound{
			{status: unreachable, written: true, wantState: pending(0, 1)},
			{status: cancelled, wantState: pending(0, 1)},
			{status: storage.StatusHostKeyUnknown, want: Fired, written: true, wantState: down(0, 2)},
			{status: cancelled, wantState: down(0, 2)},
			{status: ok, want: Resolved, written: true, wantState: resolved(4)},
		}},
		"limit 1 fires on the first failed round": {DownRule(1), []downRound{
			{status: storage.StatusBadReport, want: Fired, written: true, wantState: down(0, 0)},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := NewMemoryStore()
			for i, r := range tc.rounds {
				host := web
				host.Status = r.status
				tr, err := Evaluate(ctx, at(i), host, []Rule{tc.rule}, nil, store, DefaultRepeat)
				if err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
				var got Kind
				if len(tr.Changes) == 1 {
					got = tr.Changes[0].Kind
					if c := tr.Changes[0]; c.Since.IsZero() || !c.At.Equal(at(i)) || c.Rule.ID != DownRuleID {
						t.Errorf("round %d: transition %+v", i, c)
					}
				}
				if got != r.want || len(tr.Changes) > 1 {
					t.Errorf("round %d (%s): transition %v (%d changes), want %v", i, r.status, got, len(tr.Changes), r.want)
				}
				if written := len(tr.Updates) == 1; written != r.written {
					t.Errorf("round %d (%s): state written %v, want %v", i, r.status, written, r.written)
				}
				if err := tr.Commit(ctx, store); err != nil {
					t.Fatal(err)
				}
				st, found, _ := store.Get(ctx, web.IP, web.Port, DownRuleID)
				if r.wantState != (State{}) && (!found || st != r.wantState) {
					t.Errorf("round %d (%s): state %+v, want %+v", i, r.status, st, r.wantState)
				}
			}
		})
	}
}

// TestDownRuleWithOtherRules: a failed host evaluates only the down
// rule; the metric rules keep their state.
func TestDownRuleWithOtherRules(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	memory := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})[0]
	rules := []Rule{memory, DownRule(1)}
	host := web
	host.Status = storage.StatusOK
	tr, err := Evaluate(ctx, t0, host, rules, map[string]float64{"memory.used_percent": 95}, store, DefaultRepeat)
	if err != nil || len(tr.Changes) != 1 || tr.Changes[0].Rule.ID != memory.ID || len(tr.Updates) != 2 {
		t.Fatalf("collected host: %+v, %v", tr, err)
	}
	_ = tr.Commit(ctx, store)
	host.Status = storage.StatusUnreachable
	tr, err = Evaluate(ctx, t0.Add(time.Hour), host, rules, nil, store, DefaultRepeat)
	if err != nil || len(tr.Changes) != 1 || tr.Changes[0].Rule.ID != DownRuleID || len(tr.Updates) != 1 {
		t.Fatalf("failed host: %+v, %v", tr, err)
	}
	if msg, ok := Compose(host, tr, nil, t0.Add(time.Hour)); !ok || msg.Subject != "[CSCS] FIRING web-01 (10.0.0.5): down — unreachable" {
		t.Errorf("subject %q", msg.Subject)
	}
}

func TestCompileDown(t *testing.T) {
	tests := map[string]struct {
		limit string
		want  DownLimit
		diag  string
	}{
		"count":          {limit: "5", want: DownLimit{Set: true, Rounds: 5, Pos: at(7)}},
		"rounds":         {limit: "5 rounds", want: DownLimit{Set: true, Rounds: 5, Pos: at(7)}},
		"one round":      {limit: " 1 Round ", want: DownLimit{Set: true, Rounds: 1, Pos: at(7)}},
		"off":            {limit: "off", want: DownLimit{Set: true, Pos: at(7)}},
		"Off with space": {limit: " OFF ", want: DownLimit{Set: true, Pos: at(7)}},
		"zero":           {limit: "0", want: DownLimit{Set: true, Pos: at(7)}},
		"duration": {limit: "5m",
			diag: `config.xml:7:5: error: alert down attribute limit: "5m" is not a count of rounds; fix: write a count of failed rounds in a row, such as limit="5" or limit="5 rounds", or limit="off" to turn DOWN alerts off`},
		"negative": {limit: "-1",
			diag: `config.xml:7:5: error: alert down attribute limit: a count of rounds cannot be negative; fix: write a count of failed rounds in a row, such as limit="5" or limit="5 rounds", or limit="off" to turn DOWN alerts off`},
		"too many": {limit: "5000",
			diag: `config.xml:7:5: error: alert down attribute limit: 5000 rounds is too many; the most is 1000; fix: write a count of failed rounds in a row, such as limit="5" or limit="5 rounds", or limit="off" to turn DOWN alerts off`},
		"percent": {limit: "50%",
			diag: `config.xml:7:5: error: alert down attribute limit: "50%" is not a count of rounds; fix: write a count of failed rounds in a row, such as limit="5" or limit="5 rounds", or limit="off" to turn DOWN alerts off`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			alerts := []config.Alert{{Type: "memory", Limit: "90%", Pos: at(6)}, {Type: DownType, Limit: tc.limit, Pos: at(7)}}
			got, diags := CompileDown(alerts)
			if diags.String() != tc.diag || got != tc.want {
				t.Errorf("CompileDown(%q) = %+v\n%s\nwant %+v\n%s", tc.limit, got, diags, tc.want, tc.diag)
			}
			// Compile leaves the down alert alone, even though no source
			// declares the type.
			rules, cdiags := Compile(alerts, testTypes)
			if len(cdiags) != 0 || len(rules) != 1 {
				t.Errorf("Compile: %d rules, diagnostics %s", len(rules), cdiags)
			}
		})
	}
}

func TestCompileDownTwice(t *testing.T) {
	got, diags := CompileDown([]config.Alert{{Type: DownType, Limit: "4", Pos: at(3)}, {Type: DownType, Limit: "off", Pos: at(8)}})
	want := `config.xml:8:5: warning: alert down: a second down alert; the one on line 3 applies; fix: remove one of them`
	if got.Rounds != 4 || !got.Set || diags.String() != want {
		t.Errorf("got %+v, diagnostics\n%s\nwant\n%s", got, diags, want)
	}
	if got, diags := CompileDown(nil); got.Set || len(diags) != 0 {
		t.Errorf("no down alert: %+v %s", got, diags)
	}
}

// TestComposeDown: the FIRING mail names the status, the number of
// rounds, the error with its fix and the first failed round; the
// RESOLVED mail says the host answers again and how long it was down.
// The host's error text is cleaned like other hostile text.
func TestComposeDown(t *testing.T) {
	rule := DownRule(3)
	first, fired := t0, t0.Add(20*time.Minute)
	host := HostInfo{IP: "10.0.0.5", Port: 22, Mail: "ops@example.com", Status: storage.StatusHostKeyUnknown,
		Error: "host key of 10.0.0.5:22 is not known\x1b[31m\n; fix: ssh-keyscan -p 22 10.0.0.5 >> data/known_hosts\u202e"}
	firing, ok := Compose(host, Transitions{Changes: []Transition{{Kind: Fired, Rule: rule, Since: first, At: fired}}}, nil, fired)
	if !ok {
		t.Fatal("no mail")
	}
	if want := "[CSCS] FIRING 10.0.0.5: down — host_key_unknown 3 rounds in a row"; firing.Subject != want {
		t.Errorf("subject\n got  %q\n want %q", firing.Subject, want)
	}
	checkGolden(t, "down-firing", firing.Subject+"\n\n"+firing.Body)

	host.Status, host.Hostname, host.Error = storage.StatusOK, "web-01", ""
	back := t0.Add(90 * time.Minute)
	resolved, _ := Compose(host, Transitions{Changes: []Transition{{Kind: Resolved, Rule: rule, Value: 1, Since: first, At: back}}}, nil, back)
	if want := "[CSCS] RESOLVED web-01 (10.0.0.5): down — answers again after 1h30m"; resolved.Subject != want {
		t.Errorf("subject\n got  %q\n want %q", resolved.Subject, want)
	}
	checkGolden(t, "down-resolved", resolved.Subject+"\n\n"+resolved.Body)

	for name, msg := range map[string]Message{"firing": firing, "resolved": resolved} {
		text := msg.Subject + msg.Body
		if strings.ContainsAny(text, "\x1b\u202e") || strings.Contains(text, "\n;") {
			t.Errorf("%s mail keeps control characters of the host's error:\n%s", name, text)
		}
	}
	host.Status = storage.StatusUnreachable
	repeated, _ := Compose(host, Transitions{Changes: []Transition{{Kind: Repeated, Rule: rule, Since: first, At: back}}}, nil, back)
	if repeated.Subject != "[CSCS] STILL FIRING web-01 (10.0.0.5): down — unreachable for 1h30m" || !strings.Contains(repeated.Body, "(down for 1h30m)") {
		t.Errorf("repeated mail: %q\n%s", repeated.Subject, repeated.Body)
	}
}
