package storagetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/storage"
)

const (
	hostsQuery = `SELECT ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at
	              FROM hosts ORDER BY ip`
	collectionsQuery = `SELECT h.ip, c.round_id, c.status, c.error, c.started_at, c.finished_at,
	                           c.connect_ms, c.detect_ms, c.upload_ms, c.exec_ms, c.total_ms, c.agent_uploaded, c.agent_version
	                    FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip, c.round_id`
	samplesQuery = `SELECT h.ip, s.metric, s.value, s.unit, s.collected_at
	                FROM samples s JOIN collections c ON c.id = s.collection_id JOIN hosts h ON h.id = c.host_id AND h.id = s.host_id
	                ORDER BY h.ip, s.metric, s.collected_at`
	// labelledSamplesQuery reads the samples with their labels; labels
	// are compared through the mount, which both engines read alike.
	labelledSamplesQuery = `SELECT h.ip, s.metric, s.value, s.labels = '{}' AS unlabelled
	                        FROM samples s JOIN hosts h ON h.id = s.host_id
	                        ORDER BY h.ip, s.metric, s.value`
	// diskLatestQuery reads the column latest_stats gained with labels.
	diskLatestQuery = `SELECT host_ip, disk_used_percent_max FROM latest_stats ORDER BY host_ip`
	// latestStatsQuery reads every column docs/schema.md promises, except
	// the row ids.
	latestStatsQuery = `SELECT host_ip, host_port, hostname, os, arch, round_id, agent_version, collected_at,
	                           cpu_percent, memory_percent, swap_percent, load1, load5, load15, uptime_seconds
	                    FROM latest_stats ORDER BY host_ip`
)

func testMigrationsIdempotent(t *testing.T, d Database) {
	ctx := context.Background()
	write(t, open(t, d, ""), mixedRound(t))
	versions := Dump(t, d.SQL, `SELECT version, name FROM schema_migrations ORDER BY version`)
	data := dumpAll(t, d.SQL)

	// A second core opening the same database, and a direct re-run.
	open(t, d, "")
	if err := d.MigrateTo(ctx, d.Versions); err != nil {
		t.Fatalf("migrating an up-to-date database again: %v", err)
	}
	if got := Dump(t, d.SQL, `SELECT version, name FROM schema_migrations ORDER BY version`); got != versions {
		t.Errorf("schema_migrations changed:\n%s\nwant\n%s", got, versions)
	}
	if n := Count(t, d.SQL, "schema_migrations"); n != d.Versions {
		t.Errorf("schema_migrations has %d rows; want %d", n, d.Versions)
	}
	want := fmt.Sprintf("version=%d \n", d.Versions)
	if got := Dump(t, d.SQL, `SELECT MAX(version) AS version FROM schema_migrations`); got != want {
		t.Errorf("schema version: %s; want %s", got, want)
	}
	for i, got := range dumpAll(t, d.SQL) {
		if got != data[i] {
			t.Errorf("%s changed when migrating again:\n%s\nwant\n%s", wholeTables[i], got, data[i])
		}
	}
}

func testConcurrentOpen(t *testing.T, d Database) {
	const cores = 4
	errs := make(chan error, cores)
	for range cores {
		go func() {
			s, err := d.Open(context.Background(), "")
			if err == nil {
				err = s.Close(context.Background())
			}
			errs <- err
		}()
	}
	for range cores {
		if err := <-errs; err != nil {
			t.Errorf("Open while other cores open: %v", err)
		}
	}
	if n := Count(t, d.SQL, "schema_migrations"); n != d.Versions {
		t.Errorf("schema_migrations has %d rows after concurrent opens; want %d", n, d.Versions)
	}
}

func testNewerSchemaRefused(t *testing.T, d Database) {
	ctx := context.Background()
	s := open(t, d, "")
	future := d.Versions + 6
	if _, err := d.SQL.Exec(fmt.Sprintf(
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'future', '2030-01-01T00:00:00.000Z')`, future)); err != nil {
		t.Fatal(err)
	}
	wantErr := fmt.Sprintf("database schema version %d is newer than this cscs (knows %d); upgrade cscs", future, d.Versions)
	if err := s.WriteBatch(ctx, mixedRound(t)); err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("WriteBatch on a newer schema: error %v; want it to contain %q", err, wantErr)
	}
	if n := Count(t, d.SQL, "hosts"); n != 0 {
		t.Errorf("WriteBatch on a newer schema wrote %d hosts", n)
	}
	if s2, err := d.Open(ctx, ""); err == nil {
		_ = s2.Close(ctx)
		t.Error("Open on a newer schema succeeded")
	} else if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("Open on a newer schema: error %v; want it to contain %q", err, wantErr)
	}
}

func testMixedRound(t *testing.T, d Database) {
	write(t, open(t, d, ""), mixedRound(t))
	tests := map[string]struct {
		query string
		want  string
	}{
		"hosts": {
			query: hostsQuery,
			want: "" +
				"ip=10.0.0.1 port=22 hostname=web-1 os=linux arch=amd64 agent_version=0.1.0 first_seen=2026-11-25T21:10:00.123Z last_seen=2026-11-25T21:10:01.456Z last_status=ok last_ok_at=2026-11-25T21:10:01.456Z \n" +
				"ip=10.0.0.2 port=2222 hostname=<nil> os=<nil> arch=<nil> agent_version=<nil> first_seen=2026-11-25T21:10:00.200Z last_seen=2026-11-25T21:10:03.200Z last_status=unreachable last_ok_at=<nil> \n" +
				"ip=fd00::3 port=22 hostname=<nil> os=<nil> arch=<nil> agent_version=<nil> first_seen=2026-11-25T21:10:00.300Z last_seen=2026-11-25T21:10:00.350Z last_status=auth_failed last_ok_at=<nil> \n",
		},
		"collections": {
			query: collectionsQuery,
			want: "" +
				"ip=10.0.0.1 round_id=round-0001 status=ok error=<nil> started_at=2026-11-25T21:10:00.123Z finished_at=2026-11-25T21:10:01.456Z connect_ms=12.5 detect_ms=3 upload_ms=250 exec_ms=900 total_ms=1333.789 agent_uploaded=1 agent_version=0.1.0 \n" +
				"ip=10.0.0.2 round_id=round-0001 status=unreachable error=dial tcp 10.0.0.2:2222: connect: connection refused started_at=2026-11-25T21:10:00.200Z finished_at=2026-11-25T21:10:03.200Z connect_ms=3000 detect_ms=<nil> upload_ms=<nil> exec_ms=<nil> total_ms=3000 agent_uploaded=0 agent_version=<nil> \n" +
				"ip=fd00::3 round_id=round-0001 status=auth_failed error=ssh: unable to authenticate as user \"ops\": no supported methods remain started_at=2026-11-25T21:10:00.300Z finished_at=2026-11-25T21:10:00.350Z connect_ms=50 detect_ms=<nil> upload_ms=<nil> exec_ms=<nil> total_ms=50 agent_uploaded=0 agent_version=<nil> \n",
		},
		"samples": {
			query: samplesQuery,
			want: "" +
				"ip=10.0.0.1 metric=cpu.percent value=12.5 unit=percent collected_at=2026-11-25T21:10:01.400Z \n" +
				"ip=10.0.0.1 metric=load.1 value=0.5 unit= collected_at=2026-11-25T21:10:01.400Z \n" +
				"ip=10.0.0.1 metric=memory.used_percent value=41.25 unit=percent collected_at=2026-11-25T21:10:01.400Z \n" +
				"ip=10.0.0.1 metric=uptime.seconds value=86400 unit=seconds collected_at=2026-11-25T21:10:01.400Z \n",
		},
		"latest_stats": {
			query: latestStatsQuery,
			want: "host_ip=10.0.0.1 host_port=22 hostname=web-1 os=linux arch=amd64 round_id=round-0001 agent_version=0.1.0 collected_at=2026-11-25T21:10:01.456Z " +
				"cpu_percent=12.5 memory_percent=41.25 swap_percent=<nil> load1=0.5 load5=<nil> load15=<nil> uptime_seconds=86400 \n",
		},
		"alerts":        {query: alertsQuery, want: mixedRoundAlerts},
		"notifications": {query: notificationsQuery, want: mixedRoundNotifications},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Dump(t, d.SQL, tc.query); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	t.Run("recipients", func(t *testing.T) {
		if got := recipientsOf(t, d.SQL); got != mixedRoundRecipients {
			t.Errorf("got\n%s\nwant\n%s", got, mixedRoundRecipients)
		}
	})
}

func testSameBatchTwice(t *testing.T, d Database) {
	s := open(t, d, "")
	write(t, s, mixedRound(t))
	before, countsBefore := dumpAll(t, d.SQL), counts(t, d.SQL)

	write(t, s, mixedRound(t))
	write(t, open(t, d, ""), mixedRound(t)) // and through another core

	if got := counts(t, d.SQL); got != countsBefore {
		t.Errorf("row counts after writing the batch again: %s; want %s", got, countsBefore)
	}
	for i, got := range dumpAll(t, d.SQL) {
		if got != before[i] {
			t.Errorf("%s changed when the batch was written again:\n%s\nwant\n%s", wholeTables[i], got, before[i])
		}
	}

	// The same round again with one metric fewer and a value changed
	// replaces the collection's samples.
	b := mixedRound(t)
	b.Collections[0].Samples = b.Collections[0].Samples[:2]
	b.Collections[0].Samples[0].Value = 99
	write(t, s, b)
	const want = "metric=cpu.percent value=99 \nmetric=memory.used_percent value=41.25 \n"
	if got := Dump(t, d.SQL, `SELECT metric, value FROM samples ORDER BY metric`); got != want {
		t.Errorf("samples after rewriting the round:\n%s\nwant\n%s", got, want)
	}
	if n := Count(t, d.SQL, "collections"); n != 3 {
		t.Errorf("collections = %d after rewriting the round; want 3", n)
	}
}

func testInvalidBatch(t *testing.T, d Database) {
	s := open(t, d, "")
	earlier := mixedRound(t)
	earlier.RoundID = "earlier"
	write(t, s, earlier)
	before, countsBefore := dumpAll(t, d.SQL), counts(t, d.SQL)

	tests := map[string]func(b *storage.Batch){
		"unknown status":        func(b *storage.Batch) { b.Collections[2].Status = "exploded" },
		"no round id":           func(b *storage.Batch) { b.RoundID = "" },
		"bad port":              func(b *storage.Batch) { b.Collections[1].HostPort = 0 },
		"alert without rule id": func(b *storage.Batch) { b.Alerts[2].RuleID = " " },
		"alert without host":    func(b *storage.Batch) { b.Alerts[1].HostIP = "" },
		"alert with port 0":     func(b *storage.Batch) { b.Alerts[1].HostPort = 0 },
		"alert without any time": func(b *storage.Batch) {
			b.StartedAt, b.FinishedAt, b.Alerts[0].UpdatedAt = time.Time{}, time.Time{}, time.Time{}
		},
		"notification without id":      func(b *storage.Batch) { b.Notifications[2].ID = "" },
		"notification of unknown kind": func(b *storage.Batch) { b.Notifications[2].Kind = "fax" },
		"notification of unknown status": func(b *storage.Batch) {
			b.Notifications[2].Status = "lost"
		},
		"notification with negative attempts": func(b *storage.Batch) { b.Notifications[1].Attempts = -1 },
		"notification with bad port":          func(b *storage.Batch) { b.Notifications[0].HostPort = 70000 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			b := mixedRound(t)
			mutate(b)
			if err := s.WriteBatch(context.Background(), b); err == nil {
				t.Fatal("WriteBatch accepted an invalid batch")
			}
			if got := counts(t, d.SQL); got != countsBefore {
				t.Errorf("refused batch changed row counts to %s; want %s", got, countsBefore)
			}
			for i, got := range dumpAll(t, d.SQL) {
				if got != before[i] {
					t.Errorf("refused batch changed %s", wholeTables[i])
				}
			}
		})
	}
}

// statsRounds are three rounds: host .1 fails in the last, .2 is always
// ok, .3 never is.
func statsRounds(t0 time.Time) []*storage.Batch {
	metrics := func(cpu, mem, uptime float64) map[string]float64 {
		return map[string]float64{
			"cpu.percent": cpu, "memory.used_percent": mem, "uptime.seconds": uptime,
			"swap.used_percent": mem / 10, "load.1": cpu / 100, "load.15": 2,
		}
	}
	return []*storage.Batch{
		{RoundID: "r1", StartedAt: t0, Collections: []storage.Collection{
			OKCollection("10.0.0.1", t0, metrics(10, 20, 100)),
			OKCollection("10.0.0.2", t0, metrics(50, 60, 200)),
			failedCollection("10.0.0.3", t0, storage.StatusAuthFailed),
		}},
		{RoundID: "r2", StartedAt: t0.Add(time.Minute), Collections: []storage.Collection{
			OKCollection("10.0.0.1", t0.Add(time.Minute), metrics(11, 21, 160)),
			OKCollection("10.0.0.2", t0.Add(time.Minute), metrics(55, 65, 260)),
			failedCollection("10.0.0.3", t0.Add(time.Minute), storage.StatusTimeout),
		}},
		{RoundID: "r3", StartedAt: t0.Add(2 * time.Minute), Collections: []storage.Collection{
			failedCollection("10.0.0.1", t0.Add(2*time.Minute), storage.StatusUnreachable),
			OKCollection("10.0.0.2", t0.Add(2*time.Minute), metrics(56, 66, 320)),
		}},
	}
}

const statsWant = "" +
	"host_ip=10.0.0.1 host_port=22 hostname=host-10.0.0.1 os=linux arch=amd64 round_id=r2 agent_version=0.1.0 collected_at=2026-11-25T22:01:01.000Z " +
	"cpu_percent=11 memory_percent=21 swap_percent=2.1 load1=0.11 load5=<nil> load15=2 uptime_seconds=160 \n" +
	"host_ip=10.0.0.2 host_port=22 hostname=host-10.0.0.2 os=linux arch=amd64 round_id=r3 agent_version=0.1.0 collected_at=2026-11-25T22:02:01.000Z " +
	"cpu_percent=56 memory_percent=66 swap_percent=6.6 load1=0.56 load5=<nil> load15=2 uptime_seconds=320 \n"

func testLatestStats(t *testing.T, d Database) {
	s := open(t, d, "")
	rounds := statsRounds(time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC))
	for _, b := range rounds {
		write(t, s, b)
	}
	if got := Dump(t, d.SQL, latestStatsQuery); got != statsWant {
		t.Errorf("latest_stats:\n%s\nwant\n%s", got, statsWant)
	}
	// The ids name the host and the collection the values come from.
	const idsQuery = `SELECT COUNT(*) AS n FROM latest_stats l
	                  JOIN hosts h ON h.id = l.host_id AND h.ip = l.host_ip
	                  JOIN collections c ON c.id = l.collection_id AND c.host_id = h.id AND c.round_id = l.round_id`
	if got := Dump(t, d.SQL, idsQuery); got != "n=2 \n" {
		t.Errorf("latest_stats host_id/collection_id do not name its host and collection: %s", got)
	}

	// The hosts row keeps the first and last time the host was seen.
	const hostQuery = `SELECT hostname, os, first_seen, last_seen, last_status, last_ok_at FROM hosts WHERE ip = '10.0.0.1'`
	const wantHost = "hostname=host-10.0.0.1 os=linux first_seen=2026-11-25T22:00:00.000Z last_seen=2026-11-25T22:02:01.000Z " +
		"last_status=unreachable last_ok_at=2026-11-25T22:01:01.000Z \n"
	if got := Dump(t, d.SQL, hostQuery); got != wantHost {
		t.Errorf("host after a failed round:\n%s\nwant\n%s", got, wantHost)
	}

	// Replaying the oldest round (a retried spool) moves nothing back.
	write(t, s, rounds[0])
	if got := Dump(t, d.SQL, latestStatsQuery); got != statsWant {
		t.Errorf("latest_stats after replaying r1:\n%s\nwant\n%s", got, statsWant)
	}
	if got := Dump(t, d.SQL, hostQuery); got != wantHost {
		t.Errorf("host after replaying r1:\n%s\nwant\n%s", got, wantHost)
	}
}

func testFailedHostKeepsValues(t *testing.T, d Database) {
	s := open(t, d, "")
	for _, b := range statsRounds(time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)) {
		write(t, s, b)
	}
	const hostQuery = `SELECT h.last_status, h.last_ok_at, l.round_id, l.cpu_percent
	                   FROM hosts h LEFT JOIN latest_stats l ON l.host_id = h.id ORDER BY h.ip`
	const want = "" +
		"last_status=unreachable last_ok_at=2026-11-25T22:01:01.000Z round_id=r2 cpu_percent=11 \n" +
		"last_status=ok last_ok_at=2026-11-25T22:02:01.000Z round_id=r3 cpu_percent=56 \n" +
		"last_status=timeout last_ok_at=<nil> round_id=<nil> cpu_percent=<nil> \n"
	if got := Dump(t, d.SQL, hostQuery); got != want {
		t.Errorf("hosts with latest_stats:\n%s\nwant\n%s", got, want)
	}
}

func testConcurrentWriters(t *testing.T, d Database) {
	const writers, goroutines, rounds, hosts, samples, events = 2, 2, 4, 50, 5, 5
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	stores := make([]storage.Storage, writers)
	for i := range stores {
		stores[i] = open(t, d, "")
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*goroutines*(rounds+1))
	for w, s := range stores {
		for g := range goroutines {
			wg.Go(func() {
				for r := range rounds {
					id := fmt.Sprintf("w%d-g%d-r%d", w, g, r)
					// Each round's events overlap the previous round's,
					// and every goroutine sends the same ones.
					b := withEvents(withState(SyntheticBatch(id, t0.Add(time.Duration(r)*time.Minute), hosts, samples)), uint64(3*r), events)
					if err := s.WriteBatch(context.Background(), b); err != nil {
						errs <- fmt.Errorf("writer %d goroutine %d round %d: %w", w, g, r, err)
					}
				}
				// Every goroutine also writes one shared round: the same
				// batch from several cores at once must not duplicate.
				if err := s.WriteBatch(context.Background(), withEvents(withState(SyntheticBatch("shared", t0, hosts, samples)), 0, events)); err != nil {
					errs <- fmt.Errorf("writer %d goroutine %d shared round: %w", w, g, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	collections := (writers*goroutines*rounds + 1) * hosts
	// Records 0 to 3*(rounds-1)+events-1 of every host, once.
	want := fmt.Sprintf("hosts=%d collections=%d samples=%d alerts=%d notifications=%d events=%d",
		hosts, collections, collections*samples, hosts, collections, hosts*(3*(rounds-1)+events))
	if got := counts(t, d.SQL); got != want {
		t.Errorf("row counts = %s; want %s", got, want)
	}
}

func testHostText(t *testing.T, d Database) {
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	c := storage.Collection{
		HostIP: "10.0.0.9", HostPort: 22, Status: storage.StatusAgentError, StartedAt: at,
		Hostname: "bad\xffname\x00end",
		Error:    strings.Repeat("é", 10000),
	}
	write(t, open(t, d, ""), &storage.Batch{RoundID: "r", Collections: []storage.Collection{c}})
	var hostname, errText string
	if err := d.SQL.QueryRow(`SELECT h.hostname, c.error FROM hosts h JOIN collections c ON c.host_id = h.id`).Scan(&hostname, &errText); err != nil {
		t.Fatal(err)
	}
	checkCleaned(t, "hostname", hostname, "error text", errText)
}

// checkCleaned checks two texts as a backend stored them cleaned: name,
// written as "bad\xffname\x00end", and long, written as 10,000 "é".
// Each is named in errors.
func checkCleaned(t *testing.T, nameWhat, name, longWhat, long string) {
	t.Helper()
	if name != "bad\uFFFDname\uFFFDend" {
		t.Errorf("%s = %q; want the invalid byte and the NUL replaced by U+FFFD", nameWhat, name)
	}
	const maxErrorBytes, mark = 8 << 10, "…(truncated)"
	if len(long) > maxErrorBytes || !utf8.ValidString(long) || !strings.HasSuffix(long, mark) {
		t.Errorf("%s: %d bytes, valid UTF-8 %v, marked %v; want at most %d, valid, marked",
			longWhat, len(long), utf8.ValidString(long), strings.HasSuffix(long, mark), maxErrorBytes)
	}
}
