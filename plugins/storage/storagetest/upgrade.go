package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// versionData is what the upgrade tests know of one schema version:
// objects, the tables and views its migration creates; seed, SQL written
// in the common subset of every backend (no explicit ids, timestamps and
// booleans as quoted literals) that adds data to a database at that
// version, on top of the seeds of the versions before; and checks,
// queries over that version's tables and columns whose results every
// later migration must leave unchanged.
type versionData struct {
	objects []string
	seed    string
	checks  []string
}

// upgradeData holds the data of every schema version. A new migration
// brings testdata/seed/NNNN.sql and its checks here; RunUpgrades fails
// for a version without them.
var upgradeData = map[int]versionData{
	1: {
		objects: []string{"hosts", "collections", "samples", "latest_stats"},
		seed:    "testdata/seed/0001.sql",
		checks: []string{
			hostsQuery,
			collectionsQuery,
			samplesQuery,
			latestStatsQuery,
		},
	},
	2: {
		objects: []string{"alerts", "notifications", "firing_alerts"},
		seed:    "testdata/seed/0002.sql",
		checks: []string{
			alertsQuery,
			notificationsQuery,
			firingAlertsQuery,
		},
	},
	3: {
		objects: []string{"events"},
		seed:    "testdata/seed/0003.sql",
		checks: []string{
			eventsWithFieldsQuery,
		},
	},
	4: {
		// 0004 changes the key of events; its seed stores a record id
		// again with another time, which version 3 refuses.
		seed: "testdata/seed/0004.sql",
		checks: []string{
			eventsWithFieldsQuery,
		},
	},
	5: {
		// 0005 adds notifications.channel: the rows of 0002.sql become
		// 'email'; its seed adds one on another channel.
		seed: "testdata/seed/0005.sql",
		checks: []string{
			notificationChannelsQuery,
		},
	},
	6: {
		// 0006 adds samples.labels and makes it part of the key: the rows
		// of 0001.sql get '{}'; its seed adds one metric on two mounts.
		seed: "testdata/seed/0006.sql",
		checks: []string{
			labelledSamplesQuery,
			diskLatestQuery,
		},
	},
}

// seed1LatestStats is what latest_stats shows for testdata/seed/0001.sql.
const seed1LatestStats = "" +
	"host_ip=10.0.0.1 host_port=22 hostname=web-1 os=linux arch=amd64 round_id=seed-2 agent_version=0.1.0 collected_at=2026-11-20T10:01:01.000Z " +
	"cpu_percent=35 memory_percent=55.5 swap_percent=<nil> load1=<nil> load5=<nil> load15=<nil> uptime_seconds=3600 \n" +
	"host_ip=10.0.0.2 host_port=2222 hostname=db-1 os=windows arch=arm64 round_id=seed-1 agent_version=0.1.0 collected_at=2026-11-20T10:00:02.000Z " +
	"cpu_percent=80 memory_percent=<nil> swap_percent=<nil> load1=<nil> load5=<nil> load15=<nil> uptime_seconds=<nil> \n"

// seed2FiringAlerts is what firing_alerts shows for the seeds up to
// testdata/seed/0002.sql.
const seed2FiringAlerts = "" +
	"host_ip=10.0.0.1 host_port=22 hostname=web-1 rule_id=memory>50 type=memory metric=memory.used_percent condition=> 50% " +
	"last_value=55.5 since=2026-11-20T10:01:01.000Z last_notified=2026-11-20T10:01:02.000Z updated_at=2026-11-20T10:01:02.000Z \n"

// RunUpgrades applies every migration N of the backend to a database at
// version N-1 that holds data, and checks that the data survives, that
// the tables and views N creates appear, and that applying it again
// changes nothing. When newDatabase's Database has Open,
// it also checks that a database at the newest version, holding data,
// opens and takes new rounds.
func RunUpgrades(t *testing.T, newDatabase func(t *testing.T) Database) {
	for n := 1; ; n++ {
		var versions int
		t.Run(fmt.Sprintf("version %d to %d", n-1, n), func(t *testing.T) {
			d := newDatabase(t)
			versions = d.Versions
			if n > d.Versions {
				t.SkipNow()
			}
			upgradeStep(t, d, n)
		})
		if n >= versions {
			break
		}
	}
	t.Run("newest version with data takes new rounds", func(t *testing.T) {
		d := newDatabase(t)
		if d.Open == nil {
			t.Skip("the backend gave no Open")
		}
		newestWithData(t, d)
	})
}

func upgradeStep(t *testing.T, d Database, n int) {
	ctx := context.Background()
	if err := d.MigrateTo(ctx, n-1); err != nil {
		t.Fatalf("migrate to version %d: %v", n-1, err)
	}
	// What migration n creates is not there yet (a test-only migration
	// beyond upgradeData declares nothing).
	created := upgradeData[n].objects
	for _, obj := range created {
		if exists(d.SQL, obj) {
			t.Fatalf("%s exists at version %d, before the migration that creates it", obj, n-1)
		}
	}
	var checks, before []string
	if n > 1 {
		checks = seed(t, d, n-1)
		for _, q := range checks {
			rows := Dump(t, d.SQL, q)
			if rows == "" {
				t.Fatalf("seed of version %d leaves %s empty: nothing would be checked", n-1, q)
			}
			before = append(before, rows)
		}
	}
	for _, attempt := range []string{"upgrade", "again"} {
		if err := d.MigrateTo(ctx, n); err != nil {
			t.Fatalf("%s: migrate from version %d to %d: %v", attempt, n-1, n, err)
		}
		want := fmt.Sprintf("version=%d \n", n)
		if got := Dump(t, d.SQL, `SELECT MAX(version) AS version FROM schema_migrations`); got != want {
			t.Fatalf("%s: schema version %s; want %s", attempt, got, want)
		}
		for i, q := range checks {
			if got := Dump(t, d.SQL, q); got != before[i] {
				t.Errorf("%s: migration %d changed data of version %d:\n%s\ngot\n%s\nwant\n%s", attempt, n, n-1, q, got, before[i])
			}
		}
		for _, obj := range created {
			if !exists(d.SQL, obj) {
				t.Errorf("%s: %s is missing after migration %d", attempt, obj, n)
			}
		}
	}
}

// exists reports whether a table or view can be read.
func exists(db *sql.DB, name string) bool {
	var n int
	return db.QueryRow("SELECT COUNT(*) FROM "+name).Scan(&n) == nil
}

func newestWithData(t *testing.T, d Database) {
	ctx := context.Background()
	if err := d.MigrateTo(ctx, d.Versions); err != nil {
		t.Fatal(err)
	}
	checks := seed(t, d, d.Versions)
	if got := Dump(t, d.SQL, latestStatsQuery); got != seed1LatestStats {
		t.Fatalf("latest_stats of the seed:\n%s\nwant\n%s", got, seed1LatestStats)
	}
	if got := Dump(t, d.SQL, firingAlertsQuery); got != seed2FiringAlerts {
		t.Fatalf("firing_alerts of the seed:\n%s\nwant\n%s", got, seed2FiringAlerts)
	}
	hosts, events := Count(t, d.SQL, "hosts"), Count(t, d.SQL, "events")
	s := open(t, d, "")
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	c := OKCollection("10.0.0.1", at, map[string]float64{"cpu.percent": 77})
	// The seeded event again, its record id with another time (a log
	// that started over), and a new one.
	c.Events = []storage.Event{
		{Channel: "auth", RecordID: 77, Time: time.Date(2026, 11, 20, 10, 0, 59, 0, time.UTC), Provider: "sshd", Message: "seen again"},
		{Channel: "auth", RecordID: 77, Time: at, Provider: "sshd", Message: "record id reused"},
		{Channel: "auth", RecordID: 78, Time: at, Provider: "sshd", Message: "new"},
	}
	write(t, s, &storage.Batch{RoundID: "after-upgrade", StartedAt: at,
		Collections: []storage.Collection{c},
		// The seeded alert resolves.
		Alerts: []storage.AlertState{{HostIP: "10.0.0.1", HostPort: 22, RuleID: "memory>50", Type: "memory",
			Metric: "memory.used_percent", Condition: "> 50%", Firing: false, Since: at, LastValue: 20, UpdatedAt: at}},
	})
	if n := Count(t, d.SQL, "hosts"); n != hosts {
		t.Errorf("hosts = %d after writing to a seeded host; want %d (the seeded row reused)", n, hosts)
	}
	const q = `SELECT host_ip, round_id, cpu_percent FROM latest_stats ORDER BY host_ip`
	got := Dump(t, d.SQL, q)
	if !strings.HasPrefix(got, "host_ip=10.0.0.1 round_id=after-upgrade cpu_percent=77 \n") {
		t.Errorf("latest_stats after a new round:\n%s\nwant 10.0.0.1 from round after-upgrade", got)
	}
	if got := Dump(t, d.SQL, firingAlertsQuery); got != "" {
		t.Errorf("firing_alerts after the seeded alert resolved:\n%s\nwant no rows", got)
	}
	const seededEvent = `SELECT e.message, e.fields FROM events e JOIN hosts h ON h.id = e.host_id
	                     WHERE h.ip = '10.0.0.1' AND e.channel = 'auth' AND e.record_id = 77
	                     ORDER BY e.event_time`
	if got := Dump(t, d.SQL, seededEvent); !strings.HasPrefix(got, "message=<nil> fields={") || !strings.Contains(got, "message=record id reused") {
		t.Errorf("record 77 after it came again and was reused: %s; want the seeded row unchanged and the reused one", got)
	}
	if n := Count(t, d.SQL, "events"); n != events+2 {
		t.Errorf("events = %d after a round with a seeded, a reused and a new event; want %d", n, events+2)
	}
	if n := Count(t, d.SQL, "alerts"); n != 2 {
		t.Errorf("alerts = %d after updating a seeded alert; want 2 (the seeded rows)", n)
	}
	// The seeded rows other than the rewritten host are untouched.
	if len(checks) > 0 && !strings.Contains(Dump(t, d.SQL, checks[0]), "ip=10.0.0.2") {
		t.Errorf("seeded host 10.0.0.2 is gone")
	}
}

// seed fills a database at version with the seeds of every version up to
// it, in order, and returns their checks.
func seed(t *testing.T, d Database, version int) []string {
	t.Helper()
	var checks []string
	for v := 1; v <= version; v++ {
		data, ok := upgradeData[v]
		if !ok {
			t.Fatalf("storagetest has no upgrade data for schema version %d: add testdata/seed/%04d.sql and its checks to upgradeData", v, v)
		}
		body, err := testdata.ReadFile(data.seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if strings.TrimSpace(stripComments(stmt)) == "" {
				continue
			}
			if _, err := d.SQL.Exec(stmt); err != nil {
				t.Fatalf("seed version %d: %v\n%s", v, err, stmt)
			}
		}
		checks = append(checks, data.checks...)
	}
	return checks
}

func stripComments(stmt string) string {
	var out []string
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
