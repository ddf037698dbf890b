package storagetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

func testPrune(t *testing.T, d Database) {
	ctx := context.Background()
	s := open(t, d, "")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-48 * time.Hour)
	cpu := func(v float64) map[string]float64 { return map[string]float64{"cpu.percent": v} }
	for _, b := range []*storage.Batch{
		// .1 ok every round; .2 ok only in the oldest; .3 never ok.
		{RoundID: "old", StartedAt: now.Add(-10 * 24 * time.Hour), Collections: []storage.Collection{
			OKCollection("10.0.0.1", now.Add(-10*24*time.Hour), cpu(1)),
			OKCollection("10.0.0.2", now.Add(-10*24*time.Hour), cpu(2)),
			failedCollection("10.0.0.3", now.Add(-10*24*time.Hour), storage.StatusTimeout),
		}},
		{RoundID: "mid", StartedAt: now.Add(-5 * 24 * time.Hour), Collections: []storage.Collection{
			OKCollection("10.0.0.1", now.Add(-5*24*time.Hour), cpu(3)),
			failedCollection("10.0.0.2", now.Add(-5*24*time.Hour), storage.StatusUnreachable),
			failedCollection("10.0.0.3", now.Add(-5*24*time.Hour), storage.StatusTimeout),
		}},
		// Started exactly at the cutoff: not older than it, kept.
		{RoundID: "edge", StartedAt: cutoff, Collections: []storage.Collection{
			failedCollection("10.0.0.3", cutoff, storage.StatusTimeout),
		}},
		{RoundID: "new", StartedAt: now.Add(-time.Hour), Collections: []storage.Collection{
			OKCollection("10.0.0.1", now.Add(-time.Hour), cpu(4)),
			failedCollection("10.0.0.2", now.Add(-time.Hour), storage.StatusUnreachable),
		}},
	} {
		write(t, s, b)
	}
	statsBefore := Dump(t, d.SQL, latestStatsQuery)

	deleted, err := pruneCollections(ctx, t, s, cutoff)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	// .1 loses old and mid; .2 keeps old (its latest ok) and loses mid;
	// .3 loses old and mid.
	if deleted != 5 {
		t.Errorf("Prune deleted %d collections; want 5", deleted)
	}
	const want = "" +
		"ip=10.0.0.1 round_id=new status=ok \n" +
		"ip=10.0.0.2 round_id=new status=unreachable \n" +
		"ip=10.0.0.2 round_id=old status=ok \n" +
		"ip=10.0.0.3 round_id=edge status=timeout \n"
	const left = `SELECT h.ip, c.round_id, c.status FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip, c.round_id`
	if got := Dump(t, d.SQL, left); got != want {
		t.Errorf("collections after Prune:\n%s\nwant\n%s", got, want)
	}
	const orphans = `SELECT COUNT(*) AS n FROM samples s WHERE NOT EXISTS (SELECT 1 FROM collections c WHERE c.id = s.collection_id)`
	if got := Dump(t, d.SQL, orphans); got != "n=0 \n" {
		t.Errorf("samples of deleted collections remain: %s", got)
	}
	if got := Dump(t, d.SQL, `SELECT s.value FROM samples s ORDER BY s.value`); got != "value=2 \nvalue=4 \n" {
		t.Errorf("samples after Prune:\n%s\nwant the values of .2's old and .1's new collection", got)
	}
	if got := Dump(t, d.SQL, latestStatsQuery); got != statsBefore {
		t.Errorf("latest_stats changed by Prune:\n%s\nwant\n%s", got, statsBefore)
	}
	if n := Count(t, d.SQL, "hosts"); n != 3 {
		t.Errorf("hosts = %d after Prune; want 3 (hosts are kept)", n)
	}

	again, err := pruneCollections(ctx, t, s, cutoff)
	if err != nil || again != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", again, err)
	}
	// Everything older than now, except the latest ok collections.
	all, err := pruneCollections(ctx, t, s, now)
	if err != nil || all != 2 {
		t.Errorf("Prune(now) = %d, %v; want 2 (.2's and .3's failures)", all, err)
	}
}

func testRetention(t *testing.T, d Database) {
	ctx := context.Background()
	now := time.Now().UTC()
	cpu := map[string]float64{"cpu.percent": 5}
	old, recent := now.Add(-72*time.Hour), now.Add(-time.Hour)

	keepAll := open(t, d, "")
	alert := func(rule string, firing bool) storage.AlertState {
		return storage.AlertState{HostIP: "10.0.0.1", HostPort: 22, RuleID: rule, Firing: firing, Since: old, LastValue: 1, UpdatedAt: old}
	}
	notification := func(id, status string) storage.NotificationRecord {
		return storage.NotificationRecord{ID: id, Kind: storage.NotificationAlert, Recipients: []string{"ops@example.com"},
			Status: status, CreatedAt: old, UpdatedAt: old}
	}
	write(t, keepAll, &storage.Batch{RoundID: "old", StartedAt: old, Collections: []storage.Collection{
		OKCollection("10.0.0.1", old, cpu), OKCollection("10.0.0.2", old, cpu),
	}, Alerts: []storage.AlertState{alert("cpu>90", false), alert("memory>90", true)},
		Notifications: []storage.NotificationRecord{notification("old-sent", storage.NotificationSent), notification("old-pending", storage.NotificationPending)}})
	write(t, keepAll, &storage.Batch{RoundID: "recent", StartedAt: recent, Collections: []storage.Collection{
		OKCollection("10.0.0.1", recent, cpu), failedCollection("10.0.0.2", recent, storage.StatusTimeout),
	}})
	if n := Count(t, d.SQL, "collections"); n != 4 {
		t.Fatalf("collections = %d without retention; want 4 (nothing pruned)", n)
	}

	pruning := open(t, d, "24h")
	write(t, pruning, &storage.Batch{RoundID: "newer", StartedAt: now, Collections: []storage.Collection{
		OKCollection("10.0.0.1", now, cpu),
	}})
	const left = `SELECT h.ip, c.round_id FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip, c.round_id`
	const want = "" +
		"ip=10.0.0.1 round_id=newer \n" +
		"ip=10.0.0.1 round_id=recent \n" +
		"ip=10.0.0.2 round_id=old \n" + // its latest ok collection
		"ip=10.0.0.2 round_id=recent \n"
	if got := Dump(t, d.SQL, left); got != want {
		t.Errorf("collections after a write with retention 24h:\n%s\nwant\n%s", got, want)
	}
	// The automatic prune deletes what `cscs db prune` does: the old
	// resolved alert and the old sent notification, not the old firing
	// alert nor the old pending notification.
	const state = `SELECT 'alert' AS kind, rule_id AS id FROM alerts UNION ALL SELECT 'notification', id FROM notifications ORDER BY kind, id`
	const wantState = "kind=alert id=memory>90 \nkind=notification id=old-pending \n"
	if got := Dump(t, d.SQL, state); got != wantState {
		t.Errorf("alerts and notifications after a write with retention 24h:\n%s\nwant\n%s", got, wantState)
	}

	// Pruning runs once per Open, not after every write.
	write(t, pruning, &storage.Batch{RoundID: "late", StartedAt: old, Collections: []storage.Collection{
		OKCollection("10.0.0.3", old, cpu), failedCollection("10.0.0.1", old, storage.StatusTimeout),
	}})
	if n := Count(t, d.SQL, "collections"); n != 6 {
		t.Errorf("collections = %d after a second write; want 6 (no second prune)", n)
	}

	for _, bad := range []string{"forever", "-1d", "0s"} {
		if s, err := d.Open(ctx, bad); err == nil {
			_ = s.Close(ctx)
			t.Errorf("Open with retention %q succeeded", bad)
		} else if !strings.Contains(err.Error(), "retention") {
			t.Errorf("Open with retention %q: error %v does not name the setting", bad, err)
		}
	}
}
