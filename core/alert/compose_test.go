package alert

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/core/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// checkGolden compares got with testdata/name.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("mail differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenRules are compiled once for the compose tests.
func goldenRules(t *testing.T) map[string]Rule {
	rules := mustCompile(t,
		config.Alert{Type: "memory", Limit: "90%", Pos: at(3)},
		config.Alert{Type: "cpu", Limit: "20%", Pos: at(4)},
		config.Alert{Type: "uptime", Limit: "<10m", Pos: at(5)},
		config.Alert{Type: "swap_bytes", Limit: "1GiB", Pos: at(6)},
		config.Alert{Type: "load", Limit: ">=4", Pos: at(7)},
		config.Alert{Type: "users", Limit: "10", Pos: at(8)},
	)
	byType := make(map[string]Rule)
	for _, r := range rules {
		byType[r.Type] = r
	}
	return byType
}

func series(metric string, start time.Time, step time.Duration, values ...float64) map[string][]TimedValue {
	var vs []TimedValue
	for i, v := range values {
		vs = append(vs, TimedValue{Time: start.Add(time.Duration(i) * step), Value: v})
	}
	return map[string][]TimedValue{metric: vs}
}

func merge(ms ...map[string][]TimedValue) map[string][]TimedValue {
	out := make(map[string][]TimedValue)
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestComposeGolden(t *testing.T) {
	r := goldenRules(t)
	now := t0
	min5 := 5 * time.Minute
	tests := map[string]struct {
		host        HostInfo
		changes     []Transition
		recent      map[string][]TimedValue
		wantSubject string
	}{
		"fired_one": {
			host:    web,
			changes: []Transition{{Kind: Fired, Rule: r["memory"], Value: 93.24, Since: now, At: now}},
			// The store already holds this round's value: it is not repeated.
			recent:      series("memory.used_percent", now.Add(-4*min5), min5, 71, 80.55, 85, 88, 93.24),
			wantSubject: "[CSCS] FIRING web-01 (10.0.0.5): memory 93.2% > 90%",
		},
		"mixed": {
			host: web,
			changes: []Transition{
				{Kind: Resolved, Rule: r["cpu"], Value: 12, Since: now.Add(-3*time.Hour - 20*time.Minute), At: now},
				{Kind: Repeated, Rule: r["swap_bytes"], Value: 1.5 * (1 << 30), Since: now.Add(-76 * time.Hour), At: now},
				{Kind: Fired, Rule: r["load"], Value: 4.5, Since: now, At: now},
				{Kind: Fired, Rule: r["memory"], Value: 99, Since: now, At: now},
				{Kind: Fired, Rule: r["uptime"], Value: 125, Since: now, At: now},
				{Kind: Fired, Rule: r["users"], Value: 11, Since: now, At: now},
			},
			// Unsorted, longer than RecentCount and without this round's value.
			recent: merge(
				series("load.1", now.Add(-8*min5), min5, 0.5, 1, 2, 2.25, 3, 3.5, 3.75, 4.1),
				map[string][]TimedValue{"cpu.percent": {{now.Add(-min5), 25}, {now.Add(-3 * min5), 45}, {now.Add(-2 * min5), 30}}},
				series("uptime.seconds", now.Add(-2*min5), min5, 86400*41+3600*5, 86400*41+3600*5+300),
			),
			// load is 12.5% beyond 4, memory 10% beyond 90, users 10%,
			// uptime is 125s under 600s (79%): uptime is the worst.
			wantSubject: "[CSCS] FIRING web-01 (10.0.0.5): uptime 2m5s < 10m (+5 more)",
		},
		"resolved_only": {
			host:        HostInfo{IP: "2001:db8::7", Port: 2222, Mail: "db@example.com"},
			changes:     []Transition{{Kind: Resolved, Rule: r["memory"], Value: 42, Since: now.Add(-26 * time.Hour), At: now}},
			wantSubject: "[CSCS] RESOLVED [2001:db8::7]:2222: memory 42.0% (was > 90%)",
		},
		"hostile_hostname": {
			host: HostInfo{IP: "10.0.0.9", Port: 22, Mail: "ops@example.com",
				Hostname: "evil\r\nBcc: victim@example.com\x1b[31m\u202egpj.exe\u200b\xff" + strings.Repeat("x", 100)},
			changes:     []Transition{{Kind: Repeated, Rule: r["memory"], Value: 97, Since: now.Add(-4 * time.Hour), At: now}},
			wantSubject: "[CSCS] STILL FIRING evilBcc: victim@example.com[31mgpj.exe\uFFFD" + strings.Repeat("x", 25) + "… (10.0.0.9): memory 97.0% > 90%",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			msg, ok := Compose(tc.host, Transitions{Changes: tc.changes}, tc.recent, now)
			if !ok {
				t.Fatal("Compose said there is nothing to mail")
			}
			if msg.Subject != tc.wantSubject {
				t.Errorf("subject\n got  %q\n want %q", msg.Subject, tc.wantSubject)
			}
			if msg.To != tc.host.Mail || msg.Count != len(tc.changes) {
				t.Errorf("To %q, Count %d; want %q, %d", msg.To, msg.Count, tc.host.Mail, len(tc.changes))
			}
			if !utf8.ValidString(msg.Body) || !utf8.ValidString(msg.Subject) {
				t.Error("mail is not valid UTF-8")
			}
			for _, r := range msg.Subject + msg.Body {
				if r != '\n' && (r < 0x20 || r == 0x7f || r == '\u202e' || r == '\u200b') {
					t.Errorf("mail contains the control character %U", r)
				}
			}
			checkGolden(t, name, "Subject: "+msg.Subject+"\nTo: "+msg.To+"\n\n"+msg.Body)
		})
	}
}

func TestComposeNothing(t *testing.T) {
	updatesOnly := Transitions{Updates: []Update{{HostIP: web.IP, HostPort: web.Port, RuleID: "memory>90", State: State{LastValue: 3}}}}
	for name, tr := range map[string]Transitions{"zero": {}, "updates only": updatesOnly} {
		t.Run(name, func(t *testing.T) {
			if msg, ok := Compose(web, tr, nil, t0); ok {
				t.Errorf("Compose = %+v, want nothing", msg)
			}
		})
	}
}

// TestComposeWorst checks the order of the subject: firing before still
// firing before resolved, then the farthest beyond its limit.
func TestComposeWorst(t *testing.T) {
	r := goldenRules(t)
	tr := func(k Kind, rule Rule, v float64) Transition {
		return Transition{Kind: k, Rule: rule, Value: v, Since: t0, At: t0}
	}
	tests := map[string]struct {
		changes []Transition
		want    string
	}{
		"fired beats repeated and resolved": {
			[]Transition{tr(Resolved, r["cpu"], 1), tr(Repeated, r["memory"], 100), tr(Fired, r["load"], 4)},
			"[CSCS] FIRING web-01 (10.0.0.5): load 4.00 >= 4 (+2 more)"},
		"repeated beats resolved": {
			[]Transition{tr(Resolved, r["cpu"], 1), tr(Repeated, r["memory"], 91)},
			"[CSCS] STILL FIRING web-01 (10.0.0.5): memory 91.0% > 90% (+1 more)"},
		"relative excess decides among fired": {
			// cpu 30% is 50% beyond 20%; memory 99% only 10% beyond 90%.
			[]Transition{tr(Fired, r["memory"], 99), tr(Fired, r["cpu"], 30)},
			"[CSCS] FIRING web-01 (10.0.0.5): cpu 30.0% > 20% (+1 more)"},
		"below limits count how far under": {
			// uptime 300s is 50% under 600s; cpu 25% is 25% over 20%.
			[]Transition{tr(Fired, r["cpu"], 25), tr(Fired, r["uptime"], 300)},
			"[CSCS] FIRING web-01 (10.0.0.5): uptime 5m < 10m (+1 more)"},
		"rule ID breaks ties": {
			[]Transition{tr(Fired, r["users"], 11), tr(Fired, r["cpu"], 22)},
			"[CSCS] FIRING web-01 (10.0.0.5): cpu 22.0% > 20% (+1 more)"},
		"resolved alone": {
			[]Transition{tr(Resolved, r["uptime"], 7200)},
			"[CSCS] RESOLVED web-01 (10.0.0.5): uptime 2h (was < 10m)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			msg, ok := Compose(web, Transitions{Changes: tc.changes}, nil, t0)
			if !ok || msg.Subject != tc.want {
				t.Errorf("subject\n got  %q\n want %q", msg.Subject, tc.want)
			}
			if !strings.Contains(msg.Subject, headline(msg.Worst, web)) {
				t.Errorf("Worst %+v is not the one in the subject", msg.Worst)
			}
		})
	}
}

// TestRoundsToOneMail runs the whole flow for a host with several rules:
// Evaluate, Recent, Compose, Commit.
func TestRoundsToOneMail(t *testing.T) {
	ctx := t.Context()
	r := goldenRules(t)
	rules := []Rule{r["memory"], r["cpu"], r["uptime"]}
	store := NewMemoryStore()
	rounds := []struct {
		samples map[string]float64
		subject string // "" for no mail
	}{
		{map[string]float64{"memory.used_percent": 95, "cpu.percent": 50, "uptime.seconds": 90000}, "[CSCS] FIRING web-01 (10.0.0.5): cpu 50.0% > 20% (+1 more)"},
		{map[string]float64{"memory.used_percent": 95, "cpu.percent": 50, "uptime.seconds": 90060}, ""},
		{map[string]float64{"memory.used_percent": 95}, ""},
		{map[string]float64{"memory.used_percent": 50, "cpu.percent": 50, "uptime.seconds": 30}, "[CSCS] FIRING web-01 (10.0.0.5): uptime 30s < 10m (+1 more)"},
	}
	for i, rd := range rounds {
		now := t0.Add(time.Duration(i) * 5 * time.Minute)
		for m, v := range rd.samples {
			store.AddValue(web.IP, web.Port, m, TimedValue{Time: now, Value: v})
		}
		tr, err := Evaluate(ctx, now, web, rules, rd.samples, store, DefaultRepeat)
		if err != nil {
			t.Fatal(err)
		}
		recent, err := Recent(ctx, store, web, tr, RecentCount)
		if err != nil {
			t.Fatal(err)
		}
		msg, ok := Compose(web, tr, recent, now)
		if got := msg.Subject; ok != (rd.subject != "") || got != rd.subject {
			t.Errorf("round %d: mail %v %q, want %q", i, ok, got, rd.subject)
		}
		if err := tr.Commit(ctx, store); err != nil {
			t.Fatal(err)
		}
	}
}
