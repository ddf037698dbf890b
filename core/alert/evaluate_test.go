package alert

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
)

var (
	t0  = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	web = HostInfo{IP: "10.0.0.5", Port: 22, Hostname: "web-01", Mail: "ops@example.com"}
)

// mustCompile compiles alerts of testTypes, failing on any diagnostic.
func mustCompile(t *testing.T, alerts ...config.Alert) []Rule {
	t.Helper()
	rules, diags := Compile(alerts, testTypes)
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags)
	}
	return rules
}

// round is one evaluation in a scenario: the value of the metric (absent
// when missing) and what should happen.
type round struct {
	at      time.Duration // after t0
	value   float64
	missing bool
	want    Kind // 0 for nothing to mail
	// wantState is the stored state after the round.
	wantState State
}

func runRounds(t *testing.T, rule Rule, repeat time.Duration, rounds []round) {
	t.Helper()
	ctx := context.Background()
	store := NewMemoryStore()
	for i, r := range rounds {
		now := t0.Add(r.at)
		samples := map[string]float64{}
		if !r.missing {
			samples[rule.Metric] = r.value
		}
		tr, err := Evaluate(ctx, now, web, []Rule{rule}, samples, store, repeat)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		var got Kind
		if len(tr.Changes) > 1 {
			t.Fatalf("round %d: %d changes for one rule", i, len(tr.Changes))
		}
		if len(tr.Changes) == 1 {
			got = tr.Changes[0].Kind
			c := tr.Changes[0]
			if c.Value != r.value || !c.At.Equal(now) || c.Rule.ID != rule.ID {
				t.Errorf("round %d: transition %+v does not carry the round's value, time and rule", i, c)
			}
		}
		if got != r.want {
			t.Errorf("round %d (+%v, value %v): transition %v, want %v", i, r.at, r.value, got, r.want)
		}
		if r.missing && len(tr.Updates) != 0 {
			t.Errorf("round %d: a missing sample produced state updates %+v", i, tr.Updates)
		}
		if err := tr.Commit(ctx, store); err != nil {
			t.Fatalf("round %d: commit: %v", i, err)
		}
		st, ok, _ := store.Get(ctx, web.IP, web.Port, rule.ID)
		if !ok || !reflect.DeepEqual(st, r.wantState) {
			t.Errorf("round %d: stored state %+v (found %v), want %+v", i, st, ok, r.wantState)
		}
	}
}

func TestEvaluateStateMachine(t *testing.T) {
	memory := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})[0]
	uptime := mustCompile(t, config.Alert{Type: "uptime", Limit: "<10m", Pos: at(4)})[0]
	h := time.Hour
	fired := func(since, notified time.Duration, v float64) State {
		return State{Firing: true, Since: t0.Add(since), LastNotified: t0.Add(notified), LastValue: v}
	}
	ok := func(since, notified time.Duration, v float64) State {
		s := State{Since: t0.Add(since), LastValue: v}
		if notified >= 0 {
			s.LastNotified = t0.Add(notified)
		}
		return s
	}
	tests := map[string]struct {
		rule   Rule
		repeat time.Duration
		rounds []round
	}{
		"fire, repeat suppressed within 4h, repeat after 4h, resolve, fire again": {memory, DefaultRepeat, []round{
			{at: 0, value: 50, wantState: ok(0, -1, 50)},
			{at: 1 * h, value: 93.2, want: Fired, wantState: fired(1*h, 1*h, 93.2)},
			{at: 2 * h, value: 95, wantState: fired(1*h, 1*h, 95)},
			{at: 5*h - time.Second, value: 96, wantState: fired(1*h, 1*h, 96)},
			{at: 5 * h, value: 97, want: Repeated, wantState: fired(1*h, 5*h, 97)},
			{at: 6 * h, value: 98, wantState: fired(1*h, 5*h, 98)},
			{at: 9 * h, value: 91, want: Repeated, wantState: fired(1*h, 9*h, 91)},
			{at: 10 * h, value: 90, want: Resolved, wantState: ok(10*h, 10*h, 90)},
			{at: 11 * h, value: 40, wantState: ok(10*h, 10*h, 40)},
			{at: 12 * h, value: 91, want: Fired, wantState: fired(12*h, 12*h, 91)},
		}},
		"repeat 0 mails every round while firing": {memory, 0, []round{
			{at: 0, value: 95, want: Fired, wantState: fired(0, 0, 95)},
			{at: time.Minute, value: 95, want: Repeated, wantState: fired(0, time.Minute, 95)},
			{at: 2 * time.Minute, value: 96, want: Repeated, wantState: fired(0, 2*time.Minute, 96)},
			{at: 3 * time.Minute, value: 10, want: Resolved, wantState: ok(3*time.Minute, 3*time.Minute, 10)},
			{at: 4 * time.Minute, value: 10, wantState: ok(3*time.Minute, 3*time.Minute, 10)},
		}},
		"missing sample neither resolves nor repeats": {memory, time.Hour, []round{
			{at: 0, value: 95, want: Fired, wantState: fired(0, 0, 95)},
			{at: 2 * h, missing: true, wantState: fired(0, 0, 95)},
			{at: 3 * h, missing: true, wantState: fired(0, 0, 95)},
			{at: 4 * h, value: 20, want: Resolved, wantState: ok(4*h, 4*h, 20)},
			{at: 5 * h, missing: true, wantState: ok(4*h, 4*h, 20)},
		}},
		"below: recently rebooted": {uptime, DefaultRepeat, []round{
			{at: 0, value: 3 * 86400, wantState: ok(0, -1, 3*86400)},
			{at: h, value: 120, want: Fired, wantState: fired(h, h, 120)},
			{at: 2 * h, value: 3720, want: Resolved, wantState: ok(2*h, 2*h, 3720)},
		}},
		"clock set back counts as due": {memory, DefaultRepeat, []round{
			{at: 10 * h, value: 95, want: Fired, wantState: fired(10*h, 10*h, 95)},
			{at: 9 * h, value: 95, want: Repeated, wantState: fired(10*h, 9*h, 95)},
			{at: 10 * h, value: 95, wantState: fired(10*h, 9*h, 95)},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { runRounds(t, tc.rule, tc.repeat, tc.rounds) })
	}
}

// TestEvaluateMissingWhileUnknown checks that a rule never evaluated stays
// unknown (no state, no mail) while its sample is missing or not a number.
func TestEvaluateMissingWhileUnknown(t *testing.T) {
	rules := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})
	store := NewMemoryStore()
	for name, samples := range map[string]map[string]float64{
		"absent":       {"cpu.percent": 99},
		"nan":          {"memory.used_percent": math.NaN()},
		"infinite":     {"memory.used_percent": math.Inf(1)},
		"nil map":      nil,
		"other metric": {"memory.used_bytes": 1e12},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := Evaluate(context.Background(), t0, web, rules, samples, store, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Empty() || len(tr.Updates) != 0 {
				t.Errorf("got %+v, want nothing", tr)
			}
		})
	}
}

// TestEvaluateWithoutCommitMailsAgain checks the at-least-once promise: a
// round whose states were not committed (the core stopped before the mail
// reached the outbox) is mailed again by the next round.
func TestEvaluateWithoutCommitMailsAgain(t *testing.T) {
	ctx := context.Background()
	rules := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})
	store := NewMemoryStore()
	samples := map[string]float64{"memory.used_percent": 95}
	for i := range 2 {
		tr, err := Evaluate(ctx, t0.Add(time.Duration(i)*time.Minute), web, rules, samples, store, DefaultRepeat)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Changes) != 1 || tr.Changes[0].Kind != Fired {
			t.Fatalf("round %d: %+v, want Fired", i, tr.Changes)
		}
	}
}

func TestEvaluateSeveralRulesAndHosts(t *testing.T) {
	ctx := context.Background()
	rules := mustCompile(t,
		config.Alert{Type: "memory", Limit: "90%", Pos: at(3)},
		config.Alert{Type: "cpu", Limit: "20%", Pos: at(4)},
		config.Alert{Type: "load", Limit: "4", Pos: at(5)},
		config.Alert{Type: "memory", Limit: "50%", Pos: at(6)},
	)
	store := NewMemoryStore()
	other := HostInfo{IP: "10.0.0.5", Port: 2222}
	samples := map[string]float64{"memory.used_percent": 93.2, "cpu.percent": 35, "load.1": 1.5}
	tr, err := Evaluate(ctx, t0, web, rules, samples, store, DefaultRepeat)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range tr.Changes {
		ids = append(ids, c.Kind.String()+" "+c.Rule.ID)
	}
	if want := []string{"FIRING memory>90", "FIRING cpu>20", "FIRING memory>50"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("changes = %q, want %q", ids, want)
	}
	if len(tr.Updates) != 4 {
		t.Errorf("%d updates, want one per rule with a sample (4)", len(tr.Updates))
	}
	if err := tr.Commit(ctx, store); err != nil {
		t.Fatal(err)
	}
	// The same address on another port is another host: its state is its own.
	tr2, err := Evaluate(ctx, t0.Add(time.Minute), other, rules, samples, store, DefaultRepeat)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr2.Changes) != 3 {
		t.Errorf("other host: %d changes, want 3 (its own first firing)", len(tr2.Changes))
	}
}

// failingStore fails the operation named in failOn.
type failingStore struct {
	*MemoryStore
	failOn string
}

var errDisk = errors.New("disk I/O error")

func (f failingStore) Get(ctx context.Context, ip string, port int, id string) (State, bool, error) {
	if f.failOn == "get" {
		return State{}, false, errDisk
	}
	return f.MemoryStore.Get(ctx, ip, port, id)
}

func (f failingStore) Put(ctx context.Context, ip string, port int, id string, s State) error {
	if f.failOn == "put" {
		return errDisk
	}
	return f.MemoryStore.Put(ctx, ip, port, id, s)
}

func (f failingStore) RecentValues(ctx context.Context, ip string, port int, metric string, n int) ([]TimedValue, error) {
	if f.failOn == "recent" {
		return nil, errDisk
	}
	return f.MemoryStore.RecentValues(ctx, ip, port, metric, n)
}

func TestStoreErrors(t *testing.T) {
	rules := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})
	samples := map[string]float64{"memory.used_percent": 95}
	tests := map[string]struct {
		failOn string
		want   string
	}{
		"get":    {"get", "read alert state of rule memory>90 on 10.0.0.5:22: disk I/O error"},
		"put":    {"put", "store alert state of rule memory>90 on 10.0.0.5:22: disk I/O error"},
		"recent": {"recent", "read recent values of memory.used_percent on 10.0.0.5:22: disk I/O error"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := failingStore{NewMemoryStore(), tc.failOn}
			tr, err := Evaluate(ctx, t0, web, rules, samples, store, 0)
			if err == nil {
				_, err = Recent(ctx, store, web, tr, RecentCount)
			}
			if err == nil {
				err = tr.Commit(ctx, store)
			}
			if err == nil || err.Error() != tc.want || !errors.Is(err, errDisk) {
				t.Errorf("error %v, want %q wrapping the store's error", err, tc.want)
			}
		})
	}
}

func TestEvaluateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rules := mustCompile(t, config.Alert{Type: "memory", Limit: "90%", Pos: at(3)})
	_, err := Evaluate(ctx, t0, web, rules, map[string]float64{"memory.used_percent": 95}, NewMemoryStore(), 0)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestRecent(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	for i := range 8 {
		store.AddValue(web.IP, web.Port, "memory.used_percent", TimedValue{Time: t0.Add(time.Duration(7-i) * time.Minute), Value: float64(7 - i)})
	}
	store.AddValue(web.IP, 2222, "memory.used_percent", TimedValue{Time: t0, Value: 100})
	rules := mustCompile(t,
		config.Alert{Type: "memory", Limit: "90%", Pos: at(3)},
		config.Alert{Type: "memory", Limit: "5%", Pos: at(4)},
		config.Alert{Type: "load", Limit: "4", Pos: at(5)},
	)
	tr := Transitions{Changes: []Transition{{Kind: Fired, Rule: rules[0]}, {Kind: Fired, Rule: rules[1]}, {Kind: Resolved, Rule: rules[2]}}}
	got, err := Recent(ctx, store, web, tr, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]TimedValue{
		"memory.used_percent": {{t0.Add(5 * time.Minute), 5}, {t0.Add(6 * time.Minute), 6}, {t0.Add(7 * time.Minute), 7}},
		"load.1":              nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Recent = %v, want %v", got, want)
	}
}

func TestKindString(t *testing.T) {
	got := strings.Join([]string{Fired.String(), Repeated.String(), Resolved.String(), Kind(9).String()}, "|")
	if want := "FIRING|STILL FIRING|RESOLVED|Kind(9)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
