package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestWriteBatchRollsBackOnDatabaseError bypasses validation so that the
// database itself refuses a row after others were written in the same
// transaction: nothing of the batch may stay.
func TestWriteBatchRollsBackOnDatabaseError(t *testing.T) {
	tests := map[string]struct {
		spoil    func(b *storage.Batch)
		wantText []string
	}{
		"last host's collection": {
			spoil:    func(b *storage.Batch) { b.Collections[2].Status = "exploded" },
			wantText: []string{"10.0.0.2:22", "exploded"},
		},
		"last notification, after hosts, collections and alerts": {
			spoil: func(b *storage.Batch) {
				b.Notifications = append(b.Notifications, storage.NotificationRecord{
					ID: "zz", Kind: storage.NotificationAlert, Status: "lost", UpdatedAt: testTime,
				})
			},
			wantText: []string{"notification zz", "lost"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, db := migratedStore(t)
			b := storagetest.SyntheticBatch("r", testTime, 3, 2)
			b.Alerts = []storage.AlertState{{HostIP: "10.9.0.1", HostPort: 22, RuleID: "cpu>1", Firing: true, UpdatedAt: testTime}}
			b.Notifications = []storage.NotificationRecord{{ID: "a", Kind: storage.NotificationTest, Status: storage.NotificationSent, UpdatedAt: testTime}}
			b.Collections[0].Events = []storage.Event{{Channel: "Security", RecordID: 1, Time: testTime}}
			tc.spoil(b)
			r, err := sqlbatch.New(b, sqlbatch.Millis)
			if err != nil {
				t.Fatal(err)
			}
			st := newStateRows(r)
			sortRows(r)
			err = s.inTx(ctx, func(tx pgx.Tx) error { return writeRows(ctx, tx, len(s.migrations), r, st) })
			for _, want := range tc.wantText {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("writeRows error %v; want one containing %q", err, want)
				}
			}
			const n = `SELECT (SELECT COUNT(*) FROM hosts) + (SELECT COUNT(*) FROM collections) + (SELECT COUNT(*) FROM samples)
			                + (SELECT COUNT(*) FROM alerts) + (SELECT COUNT(*) FROM notifications)
			                + (SELECT COUNT(*) FROM events) AS n`
			if got := storagetest.Dump(t, db, n); got != "n=0 \n" {
				t.Errorf("failed batch left rows behind: %s", got)
			}
		})
	}
}

func TestHostTwiceInOneBatchKeepsTheLastRow(t *testing.T) {
	s, db := migratedStore(t)
	first := storagetest.OKCollection("10.0.0.1", testTime, map[string]float64{"cpu.percent": 1, "memory.used_percent": 2})
	second := storagetest.OKCollection("10.0.0.1", testTime.Add(time.Second), map[string]float64{"cpu.percent": 3})
	other := storagetest.OKCollection("10.0.0.0", testTime, map[string]float64{"cpu.percent": 9})
	b := &storage.Batch{RoundID: "r", StartedAt: testTime, Collections: []storage.Collection{first, other, second}}
	if err := s.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT h.ip, c.started_at, s.metric, s.value FROM samples s
	           JOIN collections c ON c.id = s.collection_id JOIN hosts h ON h.id = c.host_id ORDER BY h.ip, s.metric`
	const want = "ip=10.0.0.0 started_at=2026-11-25T22:00:00.000Z metric=cpu.percent value=9 \n" +
		"ip=10.0.0.1 started_at=2026-11-25T22:00:01.000Z metric=cpu.percent value=3 \n"
	if got := storagetest.Dump(t, db, q); got != want {
		t.Errorf("samples:\n%s\nwant\n%s", got, want)
	}
}

func TestEmptyBatchIsStored(t *testing.T) {
	s, db := migratedStore(t)
	if err := s.WriteBatch(context.Background(), &storage.Batch{RoundID: "empty", StartedAt: testTime}); err != nil {
		t.Fatal(err)
	}
	if n := storagetest.Count(t, db, "hosts"); n != 0 {
		t.Errorf("hosts = %d; want 0", n)
	}
}

// TestManyCoresOneFleet has four cores write overlapping rounds of the
// same hosts, with the same alerts, in opposite orders, while one of them
// prunes: nothing
// may fail (PostgreSQL's deadlock detector would abort a transaction
// that waits in a cycle) and every row must be there once.
func TestManyCoresOneFleet(t *testing.T) {
	dsn, db := newSchema(t)
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = openStore(t, dsn)
	}
	if err := stores[0].Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	const rounds, hosts, samples = 5, 60, 4
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*rounds+1)
	for w, s := range stores {
		wg.Go(func() {
			for r := range rounds {
				b := storagetest.SyntheticBatch(fmt.Sprintf("w%d-r%d", w, r), testTime.Add(time.Duration(r)*time.Minute), hosts, samples)
				// Every core updates the same alerts, names the same
				// hosts that are in no round (retried notifications) and
				// sends the same events, overlapping the last round's.
				for i, c := range b.Collections {
					for k := range uint64(4) {
						b.Collections[i].Events = append(b.Collections[i].Events, storage.Event{
							// A record's time is its own, whichever round brings it.
							Channel: "Security", RecordID: uint64(2*r) + k, Time: testTime.Add(time.Duration(uint64(2*r)+k) * time.Second), EventID: 4625,
						})
					}
					b.Alerts = append(b.Alerts, storage.AlertState{HostIP: c.HostIP, HostPort: c.HostPort, RuleID: "cpu>50",
						Firing: (i+w)%2 == 0, UpdatedAt: b.StartedAt})
					b.Notifications = append(b.Notifications, storage.NotificationRecord{
						ID: fmt.Sprintf("%s/%d", b.RoundID, i), Kind: storage.NotificationEventLog,
						HostIP: fmt.Sprintf("10.200.0.%d", i), HostPort: 22, Status: storage.NotificationPending, UpdatedAt: b.StartedAt,
					})
				}
				if w%2 == 1 { // the other order in the batch
					slices.Reverse(b.Collections)
					slices.Reverse(b.Alerts)
					slices.Reverse(b.Notifications)
				}
				if err := s.WriteBatch(context.Background(), b); err != nil {
					errs <- fmt.Errorf("core %d round %d: %w", w, r, err)
				}
			}
		})
	}
	wg.Go(func() {
		if _, err := stores[3].Prune(context.Background(), testTime.Add(-time.Hour)); err != nil {
			errs <- fmt.Errorf("prune: %w", err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := fmt.Sprintf("hosts=%d collections=%d samples=%d alerts=%d notifications=%d events=%d",
		2*hosts, len(stores)*rounds*hosts, len(stores)*rounds*hosts*samples, hosts, len(stores)*rounds*hosts, hosts*(2*(rounds-1)+4))
	got := fmt.Sprintf("hosts=%d collections=%d samples=%d alerts=%d notifications=%d events=%d",
		storagetest.Count(t, db, "hosts"), storagetest.Count(t, db, "collections"), storagetest.Count(t, db, "samples"),
		storagetest.Count(t, db, "alerts"), storagetest.Count(t, db, "notifications"), storagetest.Count(t, db, "events"))
	if got != want {
		t.Errorf("row counts = %s; want %s", got, want)
	}
}

// TestManyEventsInOneRound sends more events than one insert statement
// carries: every statement's events are stored, each once.
func TestManyEventsInOneRound(t *testing.T) {
	s, db := migratedStore(t)
	b := storagetest.SyntheticBatch("r", testTime, 3, 1)
	const perHost = eventsPerInsert - 100
	for i := range b.Collections {
		for k := range perHost {
			b.Collections[i].Events = append(b.Collections[i].Events, storage.Event{
				Channel: "Security", RecordID: uint64(k), Time: testTime, EventID: 4625, Message: fmt.Sprint(k),
			})
		}
	}
	// The last host's last event again, in the last statement.
	last := &b.Collections[2]
	last.Events = append(last.Events, last.Events[perHost-1])
	for range 2 {
		if err := s.WriteBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT COUNT(*) AS n, COUNT(DISTINCT host_id) AS hosts, MIN(record_id) AS first, MAX(record_id) AS last FROM events`
	want := fmt.Sprintf("n=%d hosts=3 first=0 last=%d \n", 3*perHost, perHost-1)
	if got := storagetest.Dump(t, db, q); got != want {
		t.Errorf("events: %s; want %s", got, want)
	}
}

func TestRetryable(t *testing.T) {
	tests := map[string]struct {
		err  error
		want bool
	}{
		"serialization failure": {&pgconn.PgError{Code: "40001"}, true},
		"deadlock":              {fmt.Errorf("upsert host: %w", &pgconn.PgError{Code: "40P01"}), true},
		"unique violation":      {&pgconn.PgError{Code: "23505"}, false},
		"not from postgres":     {errors.New("connection reset"), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := retryable(tc.err); got != tc.want {
				t.Errorf("retryable(%v) = %v; want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestInTxRunsAgainAfterADeadlock makes the first attempt fail with a
// real serialization failure and checks that the transaction ran again.
func TestInTxRunsAgainAfterADeadlock(t *testing.T) {
	ctx := context.Background()
	s, _ := migratedStore(t)
	attempts := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		attempts++
		if attempts == 1 {
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'collided' USING ERRCODE = '40P01'; END $$`)
			return err
		}
		return nil
	})
	if err != nil || attempts != 2 {
		t.Fatalf("inTx = %v after %d attempts; want success on attempt 2", err, attempts)
	}

	attempts = 0
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		attempts++
		_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'always' USING ERRCODE = '40001'; END $$`)
		return err
	})
	if err == nil || attempts != maxAttempts {
		t.Fatalf("inTx = %v after %d attempts; want failure after %d", err, attempts, maxAttempts)
	}
}
