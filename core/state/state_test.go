package state

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

func TestOpenMigrates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		dir := filepath.Join(t.TempDir(), "data")
		target := Path(dir)
		if e.pg {
			target = e.target(t)
		}
		db, err := Open(ctx, target, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		embedded, err := loadMigrations(e.pg)
		if err != nil {
			t.Fatal(err)
		}
		known := len(embedded)
		if v, err := db.SchemaVersion(ctx); err != nil || v != known || known < 2 {
			t.Fatalf("SchemaVersion = %d, %v; want %d (at least 2)", v, err, known)
		}
		tables := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
		if e.pg {
			tables = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
		}
		for _, table := range []string{"schema_migrations", "alert_state", "recent_values", "notifications", "event_cursors", "host_platforms", "host_counters"} {
			var n int
			if err := db.db.QueryRow(tables, table).Scan(&n); err != nil || n != 1 {
				t.Errorf("table %s: found %d, err %v", table, n, err)
			}
		}
		if !e.pg {
			var mode string
			if err := db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && !e.pg {
			for path, want := range map[string]os.FileMode{dir: 0o700, Path(dir): 0o600} {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, err %v; want %v", path, fi.Mode().Perm(), err, want)
				}
			}
		}

		// Opening again applies nothing twice.
		db, err = Open(ctx, target, Options{})
		if err != nil {
			t.Fatalf("Open again: %v", err)
		}
		var applied int
		if err := db.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil || applied != known {
			t.Errorf("schema_migrations has %d rows, err %v; want %d", applied, err, known)
		}
		// A database from a newer cscs is refused, by Open and OpenReadOnly.
		if _, err := db.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', CURRENT_TIMESTAMP)`, known+2); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		_, err = Open(ctx, target, Options{})
		var tooNew *SchemaTooNewError
		if !errors.As(err, &tooNew) || tooNew.Found != known+2 || tooNew.Known != known {
			t.Fatalf("Open of a newer schema: %v; want SchemaTooNewError{%d, %d}", err, known+2, known)
		}
		if !strings.Contains(err.Error(), "upgrade cscs") {
			t.Errorf("error %q does not say what to do", err)
		}
		if _, err := OpenReadOnly(ctx, target, Options{}); err == nil || !strings.Contains(err.Error(), "upgrade cscs") {
			t.Errorf("OpenReadOnly of a newer schema: %v", err)
		}
	})
}

// TestMigrationsMatch: both engines have the same migrations, by number
// and name.
func TestMigrationsMatch(t *testing.T) {
	lite, err := loadMigrations(false)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: SQLite %04d_%s, PostgreSQL %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestOpenRefusesEmptyPath(t *testing.T) {
	if _, err := Open(t.Context(), "", Options{}); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

func TestAlertStateRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
		cases := map[string]alertRow{
			"firing":           {firing: true, since: t0, lastNotified: t0.Add(time.Minute), lastValue: 71.25},
			"resolved":         {firing: false, since: t0, lastNotified: t0, lastValue: 3},
			"never notified":   {firing: true, since: t0, lastValue: -1.5},
			"zero times":       {lastValue: 0},
			"value not number": {firing: true, since: t0, lastValue: math.NaN()},
			"infinite value":   {firing: true, since: t0, lastValue: math.Inf(1)},
		}
		db := openTest(t, e, Options{})
		ctx := t.Context()
		for name, want := range cases {
			t.Run(name, func(t *testing.T) {
				if err := putAlert(ctx, db.db, "10.0.0.1", 22, name, alertRow{firing: !want.firing, lastValue: 99}); err != nil {
					t.Fatal(err)
				}
				if err := putAlert(ctx, db.db, "10.0.0.1", 22, name, want); err != nil { // replaces
					t.Fatal(err)
				}
				got, ok, err := db.getAlert(ctx, "10.0.0.1", 22, name)
				if err != nil || !ok {
					t.Fatalf("getAlert = %v, %v", ok, err)
				}
				if got.firing != want.firing || !got.since.Equal(want.since) || !got.lastNotified.Equal(want.lastNotified) ||
					!(got.lastValue == want.lastValue || math.IsNaN(got.lastValue) && math.IsNaN(want.lastValue)) {
					t.Errorf("got %+v; want %+v", got, want)
				}
				if _, ok, err := db.getAlert(ctx, "10.0.0.1", 2222, name); ok || err != nil {
					t.Errorf("state leaked to another port: ok %v, err %v", ok, err)
				}
			})
		}
		if _, ok, err := db.getAlert(ctx, "10.9.9.9", 22, "cpu"); ok || err != nil {
			t.Errorf("unknown rule: ok %v, err %v; want false, nil", ok, err)
		}
		for name, put := range map[string]func() error{
			"no ip":   func() error { return putAlert(ctx, db.db, "", 22, "cpu", alertRow{}) },
			"no rule": func() error { return putAlert(ctx, db.db, "10.0.0.1", 22, "", alertRow{}) },
			"port":    func() error { return putAlert(ctx, db.db, "10.0.0.1", 70000, "cpu", alertRow{}) },
		} {
			if err := put(); err == nil {
				t.Errorf("putAlert with %s succeeded", name)
			}
		}
	})
}

func TestAlertStreakKept(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := context.Background()
		want := alert.State{Since: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), LastValue: 93, Streak: 2}
		if err := db.Put(ctx, "10.0.0.1", 22, "mem#1", want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := db.Get(ctx, "10.0.0.1", 22, "mem#1")
		if err != nil || !ok || got.Streak != 2 || !got.Since.Equal(want.Since) {
			t.Errorf("Get = %+v, %v, %v; want streak 2", got, ok, err)
		}
	})
}

func TestRecentValuesKeepsNewest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{KeepValues: 3})
		ctx := t.Context()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			at := t0.Add(time.Duration(i) * time.Minute)
			vals := map[string]float64{"cpu.percent": float64(i), "memory.percent": 50 + float64(i)}
			if i == 4 {
				vals["memory.percent"] = math.NaN() // no measurement this round
			}
			if err := db.AddValues(ctx, "10.0.0.1", 22, at, vals); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddValues(ctx, "10.0.0.2", 22, t0, map[string]float64{"cpu.percent": 100}); err != nil {
			t.Fatal(err)
		}
		// Replaying the last round replaces instead of adding.
		if err := db.AddValues(ctx, "10.0.0.1", 22, t0.Add(4*time.Minute), map[string]float64{"cpu.percent": 4.5}); err != nil {
			t.Fatal(err)
		}
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		cases := map[string]struct {
			ip     string
			metric string
			n      int
			want   []timedValue
		}{
			"capped to kept":      {"10.0.0.1", "cpu.percent", 10, []timedValue{{at(2), 2}, {at(3), 3}, {at(4), 4.5}}},
			"fewer than kept":     {"10.0.0.1", "cpu.percent", 2, []timedValue{{at(3), 3}, {at(4), 4.5}}},
			"all kept":            {"10.0.0.1", "cpu.percent", -1, []timedValue{{at(2), 2}, {at(3), 3}, {at(4), 4.5}}},
			"NaN not stored":      {"10.0.0.1", "memory.percent", 10, []timedValue{{at(1), 51}, {at(2), 52}, {at(3), 53}}},
			"other host separate": {"10.0.0.2", "cpu.percent", 10, []timedValue{{at(0), 100}}},
			"unknown metric":      {"10.0.0.1", "swap.percent", 10, nil},
			"none asked":          {"10.0.0.1", "cpu.percent", 0, nil},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				got, err := db.recentValues(ctx, tc.ip, 22, tc.metric, tc.n)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %v; want %v", got, tc.want)
				}
				for i := range got {
					if !got[i].at.Equal(tc.want[i].at) || got[i].value != tc.want[i].value {
						t.Errorf("value %d: got %v; want %v", i, got[i], tc.want[i])
					}
				}
			})
		}
		var rows int
		if err := db.db.QueryRow(`SELECT COUNT(*) FROM recent_values WHERE host_ip = '10.0.0.1'`).Scan(&rows); err != nil || rows != 6 {
			t.Errorf("10.0.0.1 has %d stored values, err %v; want 3 per metric", rows, err)
		}
		if err := db.AddValues(ctx, "10.0.0.1", 22, time.Time{}, map[string]float64{"x": 1}); err == nil {
			t.Error("AddValues without a time succeeded")
		}
	})
}

func TestAddValuesIsOneTransaction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		// The empty metric name fails after "a" was written: nothing stays.
		err := db.AddValues(ctx, "10.0.0.1", 22, time.Now(), map[string]float64{"a": 1, "": 2})
		if err == nil {
			t.Fatal("AddValues with an empty metric name succeeded")
		}
		if got, _ := db.recentValues(ctx, "10.0.0.1", 22, "a", 10); len(got) != 0 {
			t.Errorf("a failed AddValues left %v behind", got)
		}
	})
}

func TestCursors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		if _, ok, err := db.Cursor(ctx, "10.0.0.1", 22, "Security"); ok || err != nil {
			t.Fatalf("Cursor before SetCursor: %v, %v", ok, err)
		}
		for _, c := range []string{"100", "250"} {
			if err := db.SetCursor(ctx, "10.0.0.1", 22, "Security", c); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SetCursor(ctx, "10.0.0.1", 22, "auth", "s=abc;i=1"); err != nil {
			t.Fatal(err)
		}
		cases := map[string]struct {
			channel string
			want    string
		}{"replaced": {"Security", "250"}, "other channel": {"auth", "s=abc;i=1"}}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				got, ok, err := db.Cursor(ctx, "10.0.0.1", 22, tc.channel)
				if err != nil || !ok || got != tc.want {
					t.Errorf("Cursor = %q, %v, %v; want %q", got, ok, err, tc.want)
				}
			})
		}
		if err := db.SetCursor(ctx, "10.0.0.1", 22, "", "1"); err == nil {
			t.Error("SetCursor without a channel succeeded")
		}
	})
}

func testNotification(id string) notifier.Notification {
	return notifier.Notification{
		ID: id, Kind: "alert", To: []string{"ops@example.com", "Ann <ann@example.com>"},
		Subject: "memory above 50% on web-1", Body: "host web-1\nmemory 71.5% > 50%\n", Host: "10.0.0.1:22",
		CreatedAt: time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC),
	}
}

func TestInsertNotification(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := context.Background()
		due := time.Date(2026, 2, 3, 4, 5, 7, 0, time.UTC)
		n := testNotification("n1")
		if added, err := db.InsertNotification(ctx, n, due); err != nil || !added {
			t.Fatalf("InsertNotification = %v, %v", added, err)
		}
		again := n
		again.Subject = "changed"
		if added, err := db.InsertNotification(ctx, again, due); err != nil || added {
			t.Fatalf("InsertNotification of a known id = %v, %v; want false, nil", added, err)
		}
		got, err := db.Notification(ctx, "n1")
		if err != nil {
			t.Fatal(err)
		}
		want := Notification{Notification: n, Channel: DefaultChannel, Status: StatusPending, NextAttemptAt: due}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stored\n%+v\nwant\n%+v", got, want)
		}
		if _, err := db.Notification(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Notification(unknown) = %v; want ErrNotFound", err)
		}

		bad := map[string]func(*notifier.Notification){
			"no id":           func(n *notifier.Notification) { n.ID = "" },
			"unknown kind":    func(n *notifier.Notification) { n.Kind = "page" },
			"no recipient":    func(n *notifier.Notification) { n.To = nil },
			"blank recipient": func(n *notifier.Notification) { n.To = []string{" "} },
		}
		for name, spoil := range bad {
			t.Run(name, func(t *testing.T) {
				n := testNotification("bad-" + name)
				spoil(&n)
				if _, err := db.InsertNotification(ctx, n, due); err == nil {
					t.Errorf("InsertNotification accepted a notification with %s", name)
				}
			})
		}
	})
}

func TestNotificationHost(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		cases := map[string]struct {
			host   string
			ip     string
			port   int
			readAs string
		}{
			"ip and port": {"10.0.0.1:2222", "10.0.0.1", 2222, "10.0.0.1:2222"},
			"ip only":     {"10.0.0.1", "10.0.0.1", 0, "10.0.0.1"},
			"ipv6 port":   {"[fd00::1]:22", "fd00::1", 22, "[fd00::1]:22"},
			"ipv6 only":   {"fd00::1", "fd00::1", 0, "fd00::1"},
			"none":        {"", "", 0, ""},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				n := testNotification("host-" + name)
				n.Host = tc.host
				if _, err := db.InsertNotification(ctx, n, time.Now()); err != nil {
					t.Fatal(err)
				}
				var ip string
				var port int
				if err := db.db.QueryRow(`SELECT host_ip, host_port FROM notifications WHERE id = ?`, n.ID).Scan(&ip, &port); err != nil {
					t.Fatal(err)
				}
				if ip != tc.ip || port != tc.port {
					t.Errorf("stored host %q %d; want %q %d", ip, port, tc.ip, tc.port)
				}
				got, err := db.Notification(ctx, n.ID)
				if err != nil || got.Host != tc.readAs {
					t.Errorf("read back Host %q, %v; want %q", got.Host, err, tc.readAs)
				}
			})
		}
	})
}

func TestChannels(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := context.Background()
		due := time.Date(2026, 2, 3, 4, 5, 7, 0, time.UTC)
		mail := testNotification("mail")
		hook := testNotification("hook")
		hook.To = nil // a webhook needs no recipient
		if _, err := db.InsertNotification(ctx, mail, due); err != nil {
			t.Fatal(err)
		}
		if _, err := db.InsertNotificationOn(ctx, "chat", hook, due); err != nil {
			t.Fatalf("a notification without recipient on a notifier channel: %v", err)
		}
		noTo := testNotification("bad")
		noTo.To = nil
		if _, err := db.InsertNotification(ctx, noTo, due); err == nil {
			t.Error("a mail without recipient was accepted")
		}
		chans, err := db.WaitingChannels(ctx)
		if err != nil || !slices.Equal(chans, []string{"chat", "email"}) {
			t.Errorf("WaitingChannels = %v, %v", chans, err)
		}
		tests := []struct {
			channel string
			want    []string
		}{
			{"email", []string{"mail"}},
			{"chat", []string{"hook"}},
			{"", []string{"hook", "mail"}},
			{"nowhere", nil},
		}
		for _, tt := range tests {
			ids, err := db.DueNotificationsOn(ctx, tt.channel, due, 10)
			slices.Sort(ids)
			if err != nil || !slices.Equal(ids, tt.want) {
				t.Errorf("DueNotificationsOn(%q) = %v, %v; want %v", tt.channel, ids, err, tt.want)
			}
		}
		got, err := db.Notification(ctx, "hook")
		if err != nil || got.Channel != "chat" {
			t.Errorf("Notification(hook).Channel = %q, %v", got.Channel, err)
		}
	})
}

func TestClaimAndFinish(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		cases := map[string]struct {
			outcome    Outcome
			wantStatus string
			check      func(t *testing.T, n Notification)
		}{
			"sent": {
				outcome:    Outcome{Status: StatusSent, Tries: 1, At: now.Add(time.Second)},
				wantStatus: StatusSent,
				check: func(t *testing.T, n Notification) {
					if !n.SentAt.Equal(now.Add(time.Second)) || n.Attempts != 1 {
						t.Errorf("sent_at %v attempts %d", n.SentAt, n.Attempts)
					}
				},
			},
			"retry": {
				outcome:    Outcome{Status: StatusPending, Tries: 1, NextAttemptAt: now.Add(time.Minute), LastError: "421 try later"},
				wantStatus: StatusPending,
				check: func(t *testing.T, n Notification) {
					if !n.NextAttemptAt.Equal(now.Add(time.Minute)) || n.LastError != "421 try later" || n.Attempts != 1 {
						t.Errorf("next %v last error %q attempts %d", n.NextAttemptAt, n.LastError, n.Attempts)
					}
				},
			},
			"failed": {
				outcome:    Outcome{Status: StatusFailed, Tries: 1, LastError: "550 no such user", ServerReply: "550 no such user"},
				wantStatus: StatusFailed,
				check: func(t *testing.T, n Notification) {
					if n.ServerReply != "550 no such user" || !n.SentAt.IsZero() {
						t.Errorf("reply %q sent_at %v", n.ServerReply, n.SentAt)
					}
				},
			},
		}
		db := openTest(t, e, Options{})
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				id := "claim-" + name
				if _, err := db.InsertNotification(ctx, testNotification(id), now); err != nil {
					t.Fatal(err)
				}
				if _, ok, err := db.ClaimNotification(ctx, id, "A", now.Add(-time.Second), now.Add(time.Hour)); ok || err != nil {
					t.Fatalf("claim before it is due = %v, %v; want false", ok, err)
				}
				n, ok, err := db.ClaimNotification(ctx, id, "A", now, now.Add(time.Hour))
				if err != nil || !ok || n.Status != StatusSending || n.ID != id {
					t.Fatalf("claim = %+v, %v, %v", n, ok, err)
				}
				if _, ok, err := db.ClaimNotification(ctx, id, "B", now, now.Add(time.Hour)); ok || err != nil {
					t.Fatalf("second claim = %v, %v; want false", ok, err)
				}
				if err := db.FinishNotification(ctx, id, "B", tc.outcome); !errors.Is(err, ErrClaimLost) {
					t.Fatalf("finish with another token = %v; want ErrClaimLost", err)
				}
				if err := db.FinishNotification(ctx, id, "A", tc.outcome); err != nil {
					t.Fatal(err)
				}
				got, err := db.Notification(ctx, id)
				if err != nil || got.Status != tc.wantStatus {
					t.Fatalf("status %q, %v; want %s", got.Status, err, tc.wantStatus)
				}
				tc.check(t, got)
				if err := db.FinishNotification(ctx, id, "A", tc.outcome); !errors.Is(err, ErrClaimLost) {
					t.Errorf("finishing twice = %v; want ErrClaimLost", err)
				}
			})
		}
		counts, err := db.NotificationCounts(ctx)
		if err != nil || !reflect.DeepEqual(counts, map[string]int{StatusSent: 1, StatusPending: 1, StatusFailed: 1}) {
			t.Errorf("NotificationCounts = %v, %v", counts, err)
		}
	})
}

func TestReleaseExpiredClaims(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		for _, id := range []string{"expired", "live", "pending"} {
			if _, err := db.InsertNotification(ctx, testNotification(id), now); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := db.ClaimNotification(ctx, "expired", "A", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ClaimNotification(ctx, "live", "B", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		later := now.Add(10 * time.Minute)
		ids, err := db.ReleaseExpiredClaims(ctx, later, "interrupted")
		if err != nil || !reflect.DeepEqual(ids, []string{"expired"}) {
			t.Fatalf("ReleaseExpiredClaims = %v, %v; want [expired]", ids, err)
		}
		want := map[string]struct {
			status   string
			attempts int
			lastErr  string
		}{
			"expired": {StatusPending, 1, "interrupted"},
			"live":    {StatusSending, 0, ""},
			"pending": {StatusPending, 0, ""},
		}
		for id, w := range want {
			n, err := db.Notification(ctx, id)
			if err != nil || n.Status != w.status || n.Attempts != w.attempts || n.LastError != w.lastErr {
				t.Errorf("%s: %s attempts %d last error %q (%v); want %+v", id, n.Status, n.Attempts, n.LastError, err, w)
			}
		}
		if err := db.FinishNotification(ctx, "expired", "A", Outcome{Status: StatusSent, Tries: 1, At: later}); !errors.Is(err, ErrClaimLost) {
			t.Errorf("the stopped sender finishing after release = %v; want ErrClaimLost", err)
		}
	})
}

// The state database is the alert evaluator's store: what alert writes it
// reads back, and the values AddValues records come back as TimedValues.
func TestAlertStore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{KeepValues: 4})
		ctx := t.Context()
		var store alert.StateStore = db
		t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		cases := map[string]alert.State{
			"firing":   {Firing: true, Since: t0, LastNotified: t0.Add(time.Minute), LastValue: 88.5},
			"resolved": {Firing: false, Since: t0.Add(time.Hour), LastNotified: t0.Add(time.Hour), LastValue: 12},
			"fresh":    {Since: t0, LastValue: 1},
		}
		for rule, want := range cases {
			t.Run(rule, func(t *testing.T) {
				if _, ok, err := store.Get(ctx, "web-1", 22, rule); ok || err != nil {
					t.Fatalf("Get before Put = %v, %v", ok, err)
				}
				if err := store.Put(ctx, "web-1", 22, rule, want); err != nil {
					t.Fatal(err)
				}
				got, ok, err := store.Get(ctx, "web-1", 22, rule)
				if err != nil || !ok || got.Firing != want.Firing || !got.Since.Equal(want.Since) ||
					!got.LastNotified.Equal(want.LastNotified) || got.LastValue != want.LastValue {
					t.Errorf("Get = %+v, %v, %v; want %+v", got, ok, err, want)
				}
			})
		}
		for i := range 6 {
			if err := db.AddValues(ctx, "web-1", 22, t0.Add(time.Duration(i)*time.Minute), map[string]float64{"cpu.percent": float64(10 * i)}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := store.RecentValues(ctx, "web-1", 22, "cpu.percent", 3)
		want := []alert.TimedValue{{Time: t0.Add(3 * time.Minute), Value: 30}, {Time: t0.Add(4 * time.Minute), Value: 40}, {Time: t0.Add(5 * time.Minute), Value: 50}}
		if err != nil || len(got) != len(want) {
			t.Fatalf("RecentValues = %v, %v; want %v", got, err, want)
		}
		for i := range want {
			if !got[i].Time.Equal(want[i].Time) || got[i].Value != want[i].Value {
				t.Errorf("RecentValues[%d] = %v; want %v", i, got[i], want[i])
			}
		}
		if all, _ := store.RecentValues(ctx, "web-1", 22, "cpu.percent", 100); len(all) != 4 {
			t.Errorf("RecentValues(100) returned %d values; want the 4 kept", len(all))
		}
	})
}

// TestOpenReadOnly: a status read creates no state database where none
// is (ErrNoState), and reads one while a round holds its write lock,
// without waiting for it: it takes no lock, migrates nothing and writes
// nothing.
func TestOpenReadOnly(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := context.Background()
		target := e.target(t)
		if _, err := OpenReadOnly(ctx, target, Options{}); !errors.Is(err, ErrNoState) {
			t.Fatalf("OpenReadOnly of a missing database: %v, want ErrNoState", err)
		}
		if !e.pg {
			if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("OpenReadOnly created %s (%v)", target, err)
			}
		}

		w, err := Open(ctx, target, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Put(ctx, "10.0.0.1", 22, "r", alert.State{Firing: true}); err != nil {
			t.Fatal(err)
		}
		tx, err := w.db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE, the write lock, as a round's write
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_state`); err != nil {
			t.Fatal(err)
		}

		quick, cancel := context.WithTimeout(ctx, 2*time.Second) // the busy timeout is 10s
		defer cancel()
		r, err := OpenReadOnly(quick, target, Options{BusyTimeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("OpenReadOnly while a write is in progress: %v", err)
		}
		defer r.Close()
		if got, err := r.FiringAlerts(quick); err != nil || len(got) != 1 {
			t.Errorf("reading while a write is in progress: %v, %v; want the committed alert", got, err)
		}
		if _, err := r.db.ExecContext(quick, `DELETE FROM alert_state`); err == nil {
			t.Error("a read-only state database accepted a write")
		}
	})
}

// TestClaimFinishAndReleaseInBatches: ClaimNotifications claims the due
// and unclaimed of its ids in their order, FinishNotifications records
// what its token holds and names the rest, ReleaseClaims gives claims
// back as they were.
func TestClaimFinishAndReleaseInBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		db := openTest(t, e, Options{})
		for i, due := range []time.Time{now, now, now.Add(time.Hour), now, now} {
			if _, err := db.InsertNotification(ctx, testNotification(fmt.Sprintf("b%d", i)), due); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, err := db.ClaimNotification(ctx, "b1", "B", now, now.Add(time.Hour)); !ok || err != nil {
			t.Fatalf("claim b1 = %v, %v", ok, err)
		}
		claimed, err := db.ClaimNotifications(ctx, []string{"b0", "b1", "b2", "b3", "b4"}, "A", now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range claimed {
			ids = append(ids, n.ID)
			if n.Status != StatusSending {
				t.Errorf("%s: status %s after the claim", n.ID, n.Status)
			}
		}
		if want := []string{"b0", "b3", "b4"}; !reflect.DeepEqual(ids, want) {
			t.Fatalf("claimed %v, want %v (b1 is B's, b2 not due)", ids, want)
		}
		sent := Outcome{Status: StatusSent, Tries: 1, At: now}
		err = db.FinishNotifications(ctx, "A", []Finished{{ID: "b0", Outcome: sent}, {ID: "b1", Outcome: sent}, {ID: "b3", Outcome: sent}})
		if !errors.Is(err, ErrClaimLost) || !strings.Contains(err.Error(), "b1") {
			t.Errorf("FinishNotifications with b1 claimed by B = %v; want ErrClaimLost naming b1", err)
		}
		if err := db.ReleaseClaims(ctx, []string{"b4", "b1"}, "A"); err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			status   string
			attempts int
		}{
			"b0": {StatusSent, 1}, "b1": {StatusSending, 0}, "b2": {StatusPending, 0}, "b3": {StatusSent, 1}, "b4": {StatusPending, 0},
		}
		for id, w := range want {
			n, err := db.Notification(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n.Status != w.status || n.Attempts != w.attempts {
				t.Errorf("%s: %s with %d attempts, want %s with %d", id, n.Status, n.Attempts, w.status, w.attempts)
			}
		}
		if due, err := db.DueNotifications(ctx, now, 10); err != nil || !reflect.DeepEqual(due, []string{"b4"}) {
			t.Errorf("due after the release = %v, %v; want [b4]", due, err)
		}
	})
}

// TestNotifications: rows read by id in the order asked, each once, in
// statements of idsPerStatement ids; ids without a row are left out.
func TestNotifications(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		const stored = idsPerStatement + 50
		var ask []string
		for i := stored - 1; i >= 0; i-- {
			n := testNotification(fmt.Sprintf("many-%04d", i))
			if _, err := db.InsertNotification(ctx, n, time.Now()); err != nil {
				t.Fatal(err)
			}
			ask = append(ask, n.ID)
		}
		ask = append(ask, "no-such-id", ask[0], ask[stored-1])
		got, err := db.Notifications(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != stored {
			t.Fatalf("got %d notifications, want %d", len(got), stored)
		}
		for i, n := range got {
			if n.ID != ask[i] || n.Subject == "" || n.Status != StatusPending {
				t.Fatalf("notification %d = %s (%q, %s), want %s as stored", i, n.ID, n.Subject, n.Status, ask[i])
			}
		}
	})
}
