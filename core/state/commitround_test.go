package state

import (
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// TestCommitRound: a round's notifications and alert states are written
// together; a notification already queued is left as it is; when one of
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
		if err := db.CommitRound(ctx, []Queued{mail("a", "ops@example.com"), mail("b", "ops@example.com")}, []alert.Update{firing}); err != nil {
			t.Fatal(err)
		}
		if s, ok, err := db.Get(ctx, "10.0.0.1", 22, "cpu>90"); err != nil || !ok || !s.Firing || s.LastValue != 95 {
			t.Fatalf("state after the commit = %+v, %v, %v", s, ok, err)
		}
		again := mail("a", "other@example.com")
		if err := db.CommitRound(ctx, []Queued{again}, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Notification(ctx, "a"); err != nil || len(n.To) != 1 || n.To[0] != "ops@example.com" {
			t.Fatalf("notification a = %+v, %v; want the first one kept", n, err)
		}
		resolved := firing
		resolved.State.Firing = false
		err := db.CommitRound(ctx, []Queued{mail("c", "ops@example.com"), mail("d", "")}, []alert.Update{resolved})
		if err == nil {
			t.Fatal("a mail without recipient on the email channel was accepted")
		}
		if _, err := db.Notification(ctx, "c"); err == nil {
			t.Error("notification c of the refused commit was kept")
		}
		if s, _, _ := db.Get(ctx, "10.0.0.1", 22, "cpu>90"); !s.Firing {
			t.Error("the alert state of the refused commit was stored")
		}
	})
}
