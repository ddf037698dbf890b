package state

import (
	"testing"
	"time"
)

// TestClusterMembers: members join, beat, count their work per interval
// (added within one, replaced by a later one, never by an earlier one),
// are forgotten when gone long enough, and leave.
func TestClusterMembers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		target := e.target(t)
		a, b := e.open(t, target, Options{}), e.open(t, target, Options{})
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		mustDo(t, a.JoinCluster(ctx, Member{ID: "a", Host: "c1", PID: 10, StartedAt: t0, SeenAt: t0}))
		mustDo(t, b.JoinCluster(ctx, Member{ID: "b", Host: "c2", PID: 20, Sites: []string{"dc1", "dc2"}, StartedAt: t0, SeenAt: t0}))

		slot1, slot2 := t0, t0.Add(time.Minute)
		mustDo(t, a.AddMemberWork(ctx, "a", slot1, 50, 1))
		mustDo(t, b.AddMemberWork(ctx, "a", slot1, 50, 0)) // another chunk, counted through the other handle
		mustDo(t, a.AddMemberWork(ctx, "b", slot2, 7, 0))
		mustDo(t, a.AddMemberWork(ctx, "b", slot1, 3, 3)) // a late chunk of an earlier interval: ignored
		mustDo(t, a.MemberSeen(ctx, "a", t0.Add(90*time.Second), t0.Add(-time.Hour)))

		got, err := b.Members(ctx)
		mustDo(t, err)
		if len(got) != 2 {
			t.Fatalf("%d members, want 2: %+v", len(got), got)
		}
		ma, mb := got[0], got[1]
		if ma.ID != "a" || ma.Host != "c1" || ma.PID != 10 || len(ma.Sites) != 0 || !ma.SlotAt.Equal(slot1) ||
			ma.Collected != 100 || ma.Failed != 1 || !ma.SeenAt.Equal(t0.Add(90*time.Second)) || !ma.StartedAt.Equal(t0) {
			t.Errorf("member a = %+v", ma)
		}
		if mb.ID != "b" || len(mb.Sites) != 2 || mb.Sites[1] != "dc2" || !mb.SlotAt.Equal(slot2) || mb.Collected != 7 || mb.Failed != 0 {
			t.Errorf("member b = %+v", mb)
		}
		mustDo(t, a.AddMemberWork(ctx, "a", slot2, 4, 0)) // a new interval replaces the counts
		// b has not beaten since t0: forgotten when a beats with a cutoff after it.
		mustDo(t, a.MemberSeen(ctx, "a", t0.Add(2*time.Minute), t0.Add(time.Second)))
		got, err = a.Members(ctx)
		mustDo(t, err)
		if len(got) != 1 || got[0].ID != "a" || got[0].Collected != 4 || !got[0].SlotAt.Equal(slot2) {
			t.Fatalf("after b was forgotten: %+v, want a alone with 4 hosts in the second interval", got)
		}
		if err := b.MemberSeen(ctx, "b", t0.Add(3*time.Minute), t0); err == nil {
			t.Error("a forgotten member's heartbeat succeeded; it should say it is not recorded")
		}
		mustDo(t, a.LeaveCluster(ctx, "a"))
		if got, _ := a.Members(ctx); len(got) != 0 {
			t.Errorf("after leaving: %+v", got)
		}
	})
}
