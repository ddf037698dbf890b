package state

import (
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// TestCommitRound: a round's notifications, alert states and event
// cursors are written together; a notification already queued is left as it is; when one of
// them is refused, none of the round's writes remain.
func TestCommitRound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		mail := func(id, to string) Queued {
			n := notifier.Notification{ID: id, Kind: "alert", Subject: "s " + id, Body: "b", Host: "10.0.0.1:22", CreatedAt: now}
			if to != "" {
				n.To = []string{to}
			}
			return Queued{N: n, DueAt: now}
		}
		firing := alert.Update{HostIP: "10.0.0.1", HostPort: 22, RuleID: "cpu>90", State: alert.State{Firing: true, Since: now, LastNotified: now, LastValue: 95}}
		cursor := func(c string) []Cursor {
			return []Cursor{{HostIP: "10.0.0.1", HostPort: 22, Channel: "auth", Cursor: c}}
		}
		if err := db.CommitRound(ctx, []Queued{mail("a", "ops@example.com"), mail("b", "ops@example.com")}, []alert.Update{firing}, cursor("c1")); err != nil {
			t.Fatal(err)
		}
		if c, ok, err := db.Cursor(ctx, "10.0.0.1", 22, "auth"); err != nil || !ok || c != "c1" {
			t.Fatalf("cursor after the commit = %q, %v, %v; want c1", c, ok, err)
		}
		if s, ok, err := db.Get(ctx, "10.0.0.1", 22, "cpu>90"); err != nil || !ok || !s.Firing || s.LastValue != 95 {
			t.Fatalf("state after the commit = %+v, %v, %v", s, ok, err)
		}
		again := mail("a", "other@example.com")
		if err := db.CommitRound(ctx, []Queued{again}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Notification(ctx, "a"); err != nil || len(n.To) != 1 || n.To[0] != "ops@example.com" {
			t.Fatalf("notification a = %+v, %v; want the first one kept", n, err)
		}
		resolved := firing
		resolved.State.Firing = false
		err := db.CommitRound(ctx, []Queued{mail("c", "ops@example.com"), mail("d", "")}, []alert.Update{resolved}, cursor("c2"))
		if err == nil {
			t.Fatal("a mail without recipient on the email channel was accepted")
		}
		if _, err := db.Notification(ctx, "c"); err == nil {
			t.Error("notification c of the refused commit was kept")
		}
		if s, _, _ := db.Get(ctx, "10.0.0.1", 22, "cpu>90"); !s.Firing {
			t.Error("the alert state of the refused commit was stored")
		}
		// Another handle reads the table, not this one's cache.
		other := e.open(t, db.target, Options{})
		if c, _, err := other.Cursor(ctx, "10.0.0.1", 22, "auth"); err != nil || c != "c1" {
			t.Errorf("cursor after the refused commit = %q, %v; want c1 kept", c, err)
		}
	})
}

// TestRecentValuesStayBounded: round after round the table holds at most
// KeepValues+trimSlack values per host and metric, readers the newest
// KeepValues.
func TestRecentValuesStayBounded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		const keep = 3
		db := openTest(t, e, Options{KeepValues: keep})
		ctx := t.Context()
		t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		for i := range 40 {
			at := t0.Add(time.Duration(i) * time.Minute)
			hosts := []HostValues{
				{HostIP: "10.0.0.1", HostPort: 22, At: at, Values: map[string]float64{"cpu.percent": float64(i), "load.1": 1}},
				{HostIP: "10.0.0.2", HostPort: 22, At: at, Values: map[string]float64{"cpu.percent": float64(i)}},
			}
			if err := db.AddRoundValues(ctx, hosts); err != nil {
				t.Fatal(err)
			}
			var held int
			if err := db.db.QueryRow(`SELECT COUNT(*) FROM recent_values`).Scan(&held); err != nil {
				t.Fatal(err)
			}
			if pairs := 3; held > pairs*(keep+trimSlack) || (i >= keep && held < pairs*keep) {
				t.Fatalf("round %d: %d values held for %d host metrics; want %d to %d", i, held, pairs, pairs*keep, pairs*(keep+trimSlack))
			}
			vs, err := db.RecentValues(ctx, "10.0.0.1", 22, "cpu.percent", -1)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(i+1, keep); len(vs) != want || vs[len(vs)-1].Value != float64(i) {
				t.Fatalf("round %d: RecentValues = %v, want the newest %d", i, vs, want)
			}
		}
	})
}
