package storagetest

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// stateBatch is a batch of alert states and notification records around
// cutoff, now being an hour after the most recent.
func stateBatch(now, cutoff time.Time) *storage.Batch {
	old, recent := now.Add(-10*24*time.Hour), now.Add(-time.Hour)
	alert := func(ip, rule string, firing bool, updated time.Time) storage.AlertState {
		return storage.AlertState{HostIP: ip, HostPort: 22, RuleID: rule, Type: "cpu", Metric: "cpu.percent",
			Condition: "> 90%", Firing: firing, Since: old, LastValue: 1, UpdatedAt: updated}
	}
	notification := func(id, status string, created, updated time.Time) storage.NotificationRecord {
		n := storage.NotificationRecord{ID: id, Kind: storage.NotificationAlert, HostIP: "10.0.0.1", HostPort: 22,
			Recipients: []string{"ops@example.com"}, Subject: id, Status: status, Attempts: 1,
			CreatedAt: created, UpdatedAt: updated}
		if status == storage.NotificationSent {
			n.SentAt = updated
		}
		return n
	}
	return &storage.Batch{RoundID: "state", StartedAt: recent,
		Alerts: []storage.AlertState{
			alert("10.0.0.1", "cpu>90", false, old),                           // resolved long ago: goes
			alert("10.0.0.1", "memory>90", true, old),                         // firing since long ago: kept
			alert("10.0.0.2", "cpu>90", false, recent),                        // resolved recently: kept
			alert("10.0.0.2", "disk>90", false, cutoff),                       // at the cutoff: kept
			alert("10.0.0.2", "load>4", false, cutoff.Add(-time.Millisecond)), // just before: goes
		},
		Notifications: []storage.NotificationRecord{
			notification("old-sent", storage.NotificationSent, old, old),         // goes
			notification("old-failed", storage.NotificationFailed, old, old),     // goes
			notification("old-pending", storage.NotificationPending, old, old),   // kept: not done
			notification("old-sending", storage.NotificationSending, old, old),   // kept: not done
			notification("late-failed", storage.NotificationFailed, old, recent), // kept: updated recently
			notification("recent-sent", storage.NotificationSent, recent, recent),
		},
	}
}

// testPruneState: Prune deletes the notification records that are done
// (sent or failed) and the alert states that are not firing, last updated
// before the cutoff; never a pending or sending notification, never a
// firing alert.
func testPruneState(t *testing.T, d Database) {
	ctx := context.Background()
	s := open(t, d, "")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-48 * time.Hour)
	write(t, s, stateBatch(now, cutoff))
	p := pruner(t, s)

	const (
		alertsLeft        = `SELECT h.ip, a.rule_id, a.firing FROM alerts a JOIN hosts h ON h.id = a.host_id ORDER BY h.ip, a.rule_id`
		notificationsLeft = `SELECT id, status FROM notifications ORDER BY id`
	)
	steps := []struct {
		name                          string
		olderThan                     time.Time
		want                          storage.Pruned
		wantAlerts, wantNotifications string
	}{
		{
			name: "at the cutoff", olderThan: cutoff,
			want: storage.Pruned{Notifications: 2, Alerts: 2},
			wantAlerts: "" +
				"ip=10.0.0.1 rule_id=memory>90 firing=1 \n" +
				"ip=10.0.0.2 rule_id=cpu>90 firing=0 \n" +
				"ip=10.0.0.2 rule_id=disk>90 firing=0 \n",
			wantNotifications: "" +
				"id=late-failed status=failed \n" +
				"id=old-pending status=pending \n" +
				"id=old-sending status=sending \n" +
				"id=recent-sent status=sent \n",
		},
		{name: "again", olderThan: cutoff, wantAlerts: "same", wantNotifications: "same"},
		{
			name: "everything older than a year ahead", olderThan: now.Add(365 * 24 * time.Hour),
			want:       storage.Pruned{Notifications: 2, Alerts: 2},
			wantAlerts: "ip=10.0.0.1 rule_id=memory>90 firing=1 \n",
			wantNotifications: "" +
				"id=old-pending status=pending \n" +
				"id=old-sending status=sending \n",
		},
	}
	var lastAlerts, lastNotifications string
	for _, st := range steps {
		got, err := p.PruneAll(ctx, st.olderThan)
		got.Target = ""
		if err != nil || got != st.want {
			t.Errorf("%s: PruneAll = %+v, %v; want %+v", st.name, got, err, st.want)
		}
		if st.wantAlerts == "same" {
			st.wantAlerts, st.wantNotifications = lastAlerts, lastNotifications
		}
		if got := Dump(t, d.SQL, alertsLeft); got != st.wantAlerts {
			t.Errorf("%s: alerts after PruneAll:\n%s\nwant\n%s", st.name, got, st.wantAlerts)
		}
		if got := Dump(t, d.SQL, notificationsLeft); got != st.wantNotifications {
			t.Errorf("%s: notifications after PruneAll:\n%s\nwant\n%s", st.name, got, st.wantNotifications)
		}
		lastAlerts, lastNotifications = st.wantAlerts, st.wantNotifications
	}
	if got := Dump(t, d.SQL, `SELECT COUNT(*) AS n FROM firing_alerts`); got != "n=1 \n" {
		t.Errorf("firing_alerts after pruning: %s; want the one firing alert", got)
	}
}

// testPrunePreview: PreviewAll counts, for every kind of row, exactly
// what a PruneAll right after deletes, and deletes nothing itself.
func testPrunePreview(t *testing.T, d Database) {
	ctx := context.Background()
	s := open(t, d, "")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-48 * time.Hour)
	cpu := map[string]float64{"cpu.percent": 1}
	for r, at := range []time.Time{now.Add(-10 * 24 * time.Hour), now.Add(-5 * 24 * time.Hour), cutoff, now.Add(-time.Hour)} {
		b := withEvents(withState(&storage.Batch{RoundID: "r" + strconv.Itoa(r), StartedAt: at, Collections: []storage.Collection{
			OKCollection("10.0.0.1", at, cpu),
			failedCollection("10.0.0.2", at, storage.StatusTimeout),
			OKCollection("10.0.0.3", at, cpu),
		}}), uint64(r*10), 3)
		b.Collections[2].Status = storage.StatusUnreachable
		if r == 0 {
			b.Collections[2].Status = storage.StatusOK
		}
		write(t, s, b)
	}
	write(t, s, stateBatch(now, cutoff))
	p := pruner(t, s)

	// Each cutoff prunes more than the one before.
	for _, olderThan := range []time.Time{now.Add(-30 * 24 * time.Hour), cutoff, now, now.Add(365 * 24 * time.Hour)} {
		before := dumpAll(t, d.SQL)
		preview, err := p.PreviewAll(ctx, olderThan)
		if err != nil {
			t.Fatalf("PreviewAll(%s): %v", olderThan, err)
		}
		if after := dumpAll(t, d.SQL); !reflect.DeepEqual(after, before) {
			t.Fatalf("PreviewAll(%s) changed the database:\n%v\nwas\n%v", olderThan, after, before)
		}
		again, err := p.PreviewAll(ctx, olderThan)
		if err != nil || again != preview {
			t.Errorf("second PreviewAll(%s) = %+v, %v; want %+v again", olderThan, again, err, preview)
		}
		pruned, err := p.PruneAll(ctx, olderThan)
		if err != nil || pruned != preview {
			t.Errorf("PruneAll(%s) = %+v, %v; PreviewAll counted %+v", olderThan, pruned, err, preview)
		}
		if olderThan.Equal(cutoff) && (preview.Collections == 0 || preview.Events == 0 || preview.Notifications == 0 || preview.Alerts == 0) {
			t.Errorf("PreviewAll(%s) = %+v; want every kind of row counted (the test data has some of each)", olderThan, preview)
		}
		if after, err := p.PreviewAll(ctx, olderThan); err != nil || after.Total() != 0 {
			t.Errorf("PreviewAll(%s) after PruneAll = %+v, %v; want nothing left to prune", olderThan, after, err)
		}
	}
}
