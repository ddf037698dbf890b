package sqlite

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestWriteBatchMixedRound(t *testing.T) {
	s := migratedStore(t)
	if err := s.WriteBatch(context.Background(), loadBatch(t, "mixed_round.json")); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}

	tests := map[string]struct {
		query string
		want  string
	}{
		"hosts": {
			query: `SELECT ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at FROM hosts ORDER BY ip`,
			want: "" +
				"ip=10.0.0.1 port=22 hostname=web-1 os=linux arch=amd64 agent_version=0.1.0 first_seen=2026-11-25T21:10:00.123Z last_seen=2026-11-25T21:10:01.456Z last_status=ok last_ok_at=2026-11-25T21:10:01.456Z \n" +
				"ip=10.0.0.2 port=2222 hostname=<nil> os=<nil> arch=<nil> agent_version=<nil> first_seen=2026-11-25T21:10:00.200Z last_seen=2026-11-25T21:10:03.200Z last_status=unreachable last_ok_at=<nil> \n" +
				"ip=fd00::3 port=22 hostname=<nil> os=<nil> arch=<nil> agent_version=<nil> first_seen=2026-11-25T21:10:00.300Z last_seen=2026-11-25T21:10:00.350Z last_status=auth_failed last_ok_at=<nil> \n",
		},
		"collections": {
			query: `SELECT h.ip, c.round_id, c.status, c.error, c.started_at, c.finished_at, c.connect_ms, c.detect_ms, c.upload_ms, c.exec_ms, c.total_ms, c.agent_uploaded, c.agent_version
			        FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip`,
			want: "" +
				"ip=10.0.0.1 round_id=round-0001 status=ok error=<nil> started_at=2026-11-25T21:10:00.123Z finished_at=2026-11-25T21:10:01.456Z connect_ms=12.5 detect_ms=3 upload_ms=250 exec_ms=900 total_ms=1333.789 agent_uploaded=1 agent_version=0.1.0 \n" +
				"ip=10.0.0.2 round_id=round-0001 status=unreachable error=dial tcp 10.0.0.2:2222: connect: connection refused started_at=2026-11-25T21:10:00.200Z finished_at=2026-11-25T21:10:03.200Z connect_ms=3000 detect_ms=<nil> upload_ms=<nil> exec_ms=<nil> total_ms=3000 agent_uploaded=0 agent_version=<nil> \n" +
				"ip=fd00::3 round_id=round-0001 status=auth_failed error=ssh: unable to authenticate as user \"ops\": no supported methods remain started_at=2026-11-25T21:10:00.300Z finished_at=2026-11-25T21:10:00.350Z connect_ms=50 detect_ms=<nil> upload_ms=<nil> exec_ms=<nil> total_ms=50 agent_uploaded=0 agent_version=<nil> \n",
		},
		"samples": {
			query: `SELECT h.ip, s.metric, s.value, s.unit, s.collected_at
			        FROM samples s JOIN collections c ON c.id = s.collection_id JOIN hosts h ON h.id = c.host_id AND h.id = s.host_id
			        ORDER BY s.metric`,
			want: "" +
				"ip=10.0.0.1 metric=cpu.percent value=12.5 unit=percent collected_at=2026-11-25T21:10:01.400Z \n" +
				"ip=10.0.0.1 metric=load.1 value=0.5 unit= collected_at=2026-11-25T21:10:01.400Z \n" +
				"ip=10.0.0.1 metric=memory.used_percent value=41.25 unit=percent collected_at=2026-11-25T21:10:01.400Z \n" +
				"ip=10.0.0.1 metric=uptime.seconds value=86400 unit=seconds collected_at=2026-11-25T21:10:01.400Z \n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := dumpTable(t, s.db, tc.query); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestWriteBatchTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	b := loadBatch(t, "mixed_round.json")
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	queries := []string{
		`SELECT * FROM hosts ORDER BY id`,
		`SELECT * FROM collections ORDER BY id`,
		`SELECT * FROM samples ORDER BY collection_id, metric`,
	}
	before := make([]string, len(queries))
	for i, q := range queries {
		before[i] = dumpTable(t, s.db, q)
	}
	countsBefore := rowCounts(t, s.db)

	if err := s.WriteBatch(ctx, loadBatch(t, "mixed_round.json")); err != nil {
		t.Fatalf("second WriteBatch: %v", err)
	}

	if got := rowCounts(t, s.db); fmt.Sprint(got) != fmt.Sprint(countsBefore) {
		t.Errorf("row counts after rewrite = %v; want %v", got, countsBefore)
	}
	for i, q := range queries {
		if got := dumpTable(t, s.db, q); got != before[i] {
			t.Errorf("%s changed on rewrite:\n%s\nwant\n%s", q, got, before[i])
		}
	}
}

func TestWriteBatchReplacesSamplesOfRewrittenCollection(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	b := loadBatch(t, "mixed_round.json")
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The same round again, with one metric fewer and one value changed.
	b = loadBatch(t, "mixed_round.json")
	b.Collections[0].Samples = b.Collections[0].Samples[:2]
	b.Collections[0].Samples[0].Value = 99
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	got := dumpTable(t, s.db, `SELECT metric, value FROM samples ORDER BY metric`)
	want := "metric=cpu.percent value=99 \nmetric=memory.used_percent value=41.25 \n"
	if got != want {
		t.Errorf("samples after rewrite:\n%s\nwant\n%s", got, want)
	}
	if n := countRows(t, s.db, "collections"); n != 3 {
		t.Errorf("collections = %d; want 3", n)
	}
}

func TestDuplicateMetricInOneCollectionKeepsLast(t *testing.T) {
	s := migratedStore(t)
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	c := okCollection("10.0.0.1", at, nil)
	c.Samples = []storage.Sample{
		{Metric: "cpu.percent", Value: 1, Unit: "percent", Time: at},
		{Metric: "cpu.percent", Value: 2, Unit: "percent", Time: at},
	}
	if err := s.WriteBatch(context.Background(), &storage.Batch{RoundID: "r", StartedAt: at, Collections: []storage.Collection{c}}); err != nil {
		t.Fatal(err)
	}
	if got := dumpTable(t, s.db, `SELECT metric, value FROM samples`); got != "metric=cpu.percent value=2 \n" {
		t.Errorf("samples = %q; want one cpu.percent of 2", got)
	}
}

func TestWriteBatchRefusesInvalidBatch(t *testing.T) {
	tests := map[string]struct {
		mutate  func(b *storage.Batch)
		wantErr string
	}{
		"empty round id":    {func(b *storage.Batch) { b.RoundID = "" }, "no round id"},
		"blank round id":    {func(b *storage.Batch) { b.RoundID = "  " }, "no round id"},
		"unknown status":    {func(b *storage.Batch) { b.Collections[2].Status = "exploded" }, `host [fd00::3]:22: unknown status "exploded" (want one of ok, unreachable,`},
		"empty status":      {func(b *storage.Batch) { b.Collections[1].Status = "" }, `host 10.0.0.2:2222: unknown status ""`},
		"no host ip":        {func(b *storage.Batch) { b.Collections[1].HostIP = "" }, "collection 1 has no host ip"},
		"port out of range": {func(b *storage.Batch) { b.Collections[0].HostPort = 70000 }, "port 70000 is outside 1-65535"},
		"NaN value": {func(b *storage.Batch) {
			b.Collections[0].Samples[1].Value = math.NaN()
		}, `metric "memory.used_percent" is NaN`},
		"metric without name": {func(b *storage.Batch) { b.Collections[0].Samples[0].Metric = "" }, "a sample has no metric name"},
		"no start time": {func(b *storage.Batch) {
			b.StartedAt = time.Time{}
			b.Collections[2].StartedAt = time.Time{}
		}, "host [fd00::3]:22: collection has no start time"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := migratedStore(t)
			earlier := loadBatch(t, "mixed_round.json")
			earlier.RoundID = "earlier"
			if err := s.WriteBatch(ctx, earlier); err != nil {
				t.Fatal(err)
			}
			before := dumpTable(t, s.db, `SELECT * FROM hosts`)
			counts := rowCounts(t, s.db)

			b := loadBatch(t, "mixed_round.json")
			tc.mutate(b)
			err := s.WriteBatch(ctx, b)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("WriteBatch error %v; want it to contain %q", err, tc.wantErr)
			}
			if got := rowCounts(t, s.db); fmt.Sprint(got) != fmt.Sprint(counts) {
				t.Errorf("refused batch changed row counts to %v; want %v", got, counts)
			}
			if got := dumpTable(t, s.db, `SELECT * FROM hosts`); got != before {
				t.Errorf("refused batch changed hosts:\n%s\nwant\n%s", got, before)
			}
		})
	}

	t.Run("nil batch", func(t *testing.T) {
		if err := migratedStore(t).WriteBatch(context.Background(), nil); err == nil {
			t.Fatal("WriteBatch(nil) succeeded")
		}
	})
}

// TestWriteBatchRollsBackOnDatabaseError bypasses validation so that the
// database itself refuses the last collection, half way through the batch.
func TestWriteBatchRollsBackOnDatabaseError(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	b := loadBatch(t, "mixed_round.json")
	b.Collections[2].Status = "exploded"

	r, err := sqlbatch.New(b, formatTime)
	if err != nil {
		t.Fatal(err)
	}
	err = writeRows(ctx, s.db, len(s.migrations), r)
	if err == nil || !strings.Contains(err.Error(), "[fd00::3]:22") || !strings.Contains(err.Error(), "exploded") {
		t.Fatalf("writeRows error %v; want one naming host [fd00::3]:22 and status exploded", err)
	}
	if got := rowCounts(t, s.db); got["hosts"]+got["collections"]+got["samples"] != 0 {
		t.Errorf("failed batch left rows behind: %v", got)
	}
}

func TestLatestStats(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	t0 := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	metrics := func(cpu, mem, uptime float64) map[string]float64 {
		return map[string]float64{
			"cpu.percent": cpu, "memory.used_percent": mem, "uptime.seconds": uptime,
			"swap.used_percent": mem / 10, "load.1": cpu / 100,
		}
	}
	failed := func(ip string, at time.Time, st storage.Status) storage.Collection {
		return storage.Collection{HostIP: ip, HostPort: 22, Status: st, Error: "it failed", StartedAt: at, FinishedAt: at.Add(time.Second)}
	}
	rounds := []*storage.Batch{
		{RoundID: "r1", StartedAt: t0, Collections: []storage.Collection{
			okCollection("10.0.0.1", t0, metrics(10, 20, 100)),
			okCollection("10.0.0.2", t0, metrics(50, 60, 200)),
			failed("10.0.0.3", t0, storage.StatusAuthFailed),
		}},
		{RoundID: "r2", StartedAt: t0.Add(time.Minute), Collections: []storage.Collection{
			okCollection("10.0.0.1", t0.Add(time.Minute), metrics(11, 21, 160)),
			okCollection("10.0.0.2", t0.Add(time.Minute), metrics(55, 65, 260)),
			failed("10.0.0.3", t0.Add(time.Minute), storage.StatusTimeout),
		}},
		{RoundID: "r3", StartedAt: t0.Add(2 * time.Minute), Collections: []storage.Collection{
			failed("10.0.0.1", t0.Add(2*time.Minute), storage.StatusUnreachable),
			okCollection("10.0.0.2", t0.Add(2*time.Minute), metrics(56, 66, 320)),
		}},
	}
	for _, b := range rounds {
		if err := s.WriteBatch(ctx, b); err != nil {
			t.Fatalf("WriteBatch %s: %v", b.RoundID, err)
		}
	}

	const viewQuery = `SELECT host_ip, host_port, hostname, os, round_id, collected_at, cpu_percent, memory_percent, uptime_seconds, swap_percent, load1, load5
	                   FROM latest_stats ORDER BY host_ip`
	want := "" +
		"host_ip=10.0.0.1 host_port=22 hostname=host-10.0.0.1 os=linux round_id=r2 collected_at=2026-11-25T22:01:01.000Z cpu_percent=11 memory_percent=21 uptime_seconds=160 swap_percent=2.1 load1=0.11 load5=<nil> \n" +
		"host_ip=10.0.0.2 host_port=22 hostname=host-10.0.0.2 os=linux round_id=r3 collected_at=2026-11-25T22:02:01.000Z cpu_percent=56 memory_percent=66 uptime_seconds=320 swap_percent=6.6 load1=0.56 load5=<nil> \n"
	if got := dumpTable(t, s.db, viewQuery); got != want {
		t.Errorf("latest_stats:\n%s\nwant\n%s", got, want)
	}

	wantHost := "hostname=host-10.0.0.1 os=linux first_seen=2026-11-25T22:00:00.000Z last_seen=2026-11-25T22:02:01.000Z last_status=unreachable last_ok_at=2026-11-25T22:01:01.000Z \n"
	const hostQuery = `SELECT hostname, os, first_seen, last_seen, last_status, last_ok_at FROM hosts WHERE ip = '10.0.0.1'`
	if got := dumpTable(t, s.db, hostQuery); got != wantHost {
		t.Errorf("host after a failed round:\n%s\nwant\n%s", got, wantHost)
	}

	// Replaying the oldest round (a retried spool) must not move anything
	// back in time.
	if err := s.WriteBatch(ctx, rounds[0]); err != nil {
		t.Fatal(err)
	}
	if got := dumpTable(t, s.db, viewQuery); got != want {
		t.Errorf("latest_stats after replaying r1:\n%s\nwant\n%s", got, want)
	}
	if got := dumpTable(t, s.db, hostQuery); got != wantHost {
		t.Errorf("host after replaying r1:\n%s\nwant\n%s", got, wantHost)
	}
}

func TestConcurrentWritersOnTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := []*Store{openStore(t, path), openStore(t, path)}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const rounds, hosts, samples = 8, 100, 5
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*rounds)
	for w, s := range stores {
		wg.Go(func() {
			for r := range rounds {
				b := storagetest.SyntheticBatch(fmt.Sprintf("w%d-r%d", w, r), t0.Add(time.Duration(r)*time.Minute), hosts, samples)
				if err := s.WriteBatch(ctx, b); err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := map[string]int{"hosts": hosts, "collections": 2 * rounds * hosts, "samples": 2 * rounds * hosts * samples}
	if got := rowCounts(t, stores[1].db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("row counts = %v; want %v", got, want)
	}
}

func TestHostTextIsCleaned(t *testing.T) {
	s := migratedStore(t)
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	c := storage.Collection{
		HostIP: "10.0.0.9", HostPort: 22, Status: storage.StatusAgentError, StartedAt: at,
		Hostname: "bad\xffname",
		Error:    strings.Repeat("é", 10000),
	}
	if err := s.WriteBatch(context.Background(), &storage.Batch{RoundID: "r", Collections: []storage.Collection{c}}); err != nil {
		t.Fatal(err)
	}
	var hostname, errText string
	if err := s.db.QueryRow(`SELECT h.hostname, c.error FROM hosts h JOIN collections c ON c.host_id = h.id`).Scan(&hostname, &errText); err != nil {
		t.Fatal(err)
	}
	if hostname != "bad\uFFFDname" {
		t.Errorf("hostname = %q; want the invalid byte replaced", hostname)
	}
	if len(errText) > hosttext.MaxErrorBytes || !utf8.ValidString(errText) || !strings.HasSuffix(errText, hosttext.TruncatedMark) {
		t.Errorf("error text: %d bytes, valid UTF-8 %v, marked %v; want at most %d, valid, marked",
			len(errText), utf8.ValidString(errText), strings.HasSuffix(errText, hosttext.TruncatedMark), hosttext.MaxErrorBytes)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		path    string
		wantErr string
	}{
		"empty path":        {"", "path is empty"},
		"missing directory": {filepath.Join(dir, "no", "such", "dir", "x.db"), "check that the directory exists"},
		"odd characters":    {filepath.Join(dir, "we?ird#na%me.db"), ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New error %v; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(tc.path); err != nil {
				t.Errorf("database not at %q: %v", tc.path, err)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "close.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if err := s.Migrate(context.Background()); err == nil {
		t.Error("Migrate after Close succeeded")
	}
}

func TestCleanText(t *testing.T) {
	tests := map[string]struct {
		in    string
		limit int
		want  string
	}{
		"short":        {"abc", 10, "abc"},
		"exact":        {"abcdefghij", 10, "abcdefghij"},
		"invalid utf8": {"a\xffb", 10, "a\uFFFDb"},
		"nul":          {"a\x00b", 10, "a\uFFFDb"},
		"cut at rune":  {strings.Repeat("é", 20), len(hosttext.TruncatedMark) + 5, "éé" + hosttext.TruncatedMark},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := hosttext.Clean(tc.in, tc.limit); got != tc.want {
				t.Errorf("hosttext.Clean(%q, %d) = %q; want %q", tc.in, tc.limit, got, tc.want)
			}
		})
	}
}
