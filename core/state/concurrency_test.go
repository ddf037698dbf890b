package state

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestRebind: ? placeholders become $1..$n, except in quoted text and
// comments.
func TestRebind(t *testing.T) {
	tests := map[string]string{
		``:                                   ``,
		`SELECT 1`:                           `SELECT 1`,
		`WHERE a = ? AND b = ?`:              `WHERE a = $1 AND b = $2`,
		`WHERE a = '?' AND b = ?`:            `WHERE a = '?' AND b = $1`,
		`WHERE a = 'it''s ?' AND b = ?`:      `WHERE a = 'it''s ?' AND b = $1`,
		`SELECT "odd?name" FROM t WHERE x=?`: `SELECT "odd?name" FROM t WHERE x=$1`,
		"-- why?\nSELECT ?":                  "-- why?\nSELECT $1",
		"SELECT /* ? */ ?, ?":                "SELECT /* ? */ $1, $2",
		`SELECT ?, 'unterminated ?`:          `SELECT $1, 'unterminated ?`,
		"SELECT ? -- unterminated ?":         "SELECT $1 -- unterminated ?",
		`VALUES (?,?,?,?,?,?,?,?,?,?,?)`:     `VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
	}
	for in, want := range tests {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

// twoCoresQueued opens two DBs on one database of e (two cores) and queues
// n notifications due now, ids prefix000, prefix001, ...
func twoCoresQueued(t *testing.T, e engine, prefix string, n int) (dbs []*DB, ids []string, now time.Time) {
	t.Helper()
	now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	target := e.target(t)
	dbs = []*DB{e.open(t, target, Options{}), e.open(t, target, Options{})}
	for i := range n {
		id := fmt.Sprintf("%s%03d", prefix, i)
		ids = append(ids, id)
		if _, err := dbs[0].InsertNotification(t.Context(), testNotification(id), now); err != nil {
			t.Fatal(err)
		}
	}
	return dbs, ids, now
}

// TestConcurrentClaims: two DBs on one database (two cores) claiming the
// same due notifications at once, one by one and in batches, never both
// get one, and between them they get every one.
func TestConcurrentClaims(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		const n = 60
		dbs, ids, now := twoCoresQueued(t, e, "c", n)
		var (
			mu    sync.Mutex
			owner = map[string]string{}
			wg    sync.WaitGroup
			errs  = make(chan error, 8)
		)
		claim := func(token string, got []Notification) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range got {
				if prev, ok := owner[c.ID]; ok {
					errs <- fmt.Errorf("%s claimed by %s and %s", c.ID, prev, token)
				}
				owner[c.ID] = token
			}
		}
		for w := range 4 {
			db := dbs[w%2]
			token := fmt.Sprintf("core%d", w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w < 2 { // one by one
					for _, id := range ids {
						c, ok, err := db.ClaimNotification(ctx, id, token, now, now.Add(time.Hour))
						if err != nil {
							errs <- err
							return
						}
						if ok {
							claim(token, []Notification{c})
						}
					}
					return
				}
				for i := 0; i < n; i += 7 { // in batches, from the other end
					batch := slices.Clone(ids[max(0, n-i-7) : n-i])
					if w == 3 { // the same ids in the other order: no deadlock
						slices.Reverse(batch)
					}
					got, err := db.ClaimNotifications(ctx, batch, token, now, now.Add(time.Hour))
					if err != nil {
						errs <- err
						return
					}
					claim(token, got)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(owner) != n {
			t.Errorf("%d of %d notifications claimed", len(owner), n)
		}
		// Each finishes what it holds; finishing another's claim is lost.
		for id, token := range owner {
			other := "core0"
			if token == other {
				other = "core1"
			}
			if err := dbs[0].FinishNotification(ctx, id, other, Outcome{Status: StatusSent, Tries: 1, At: now}); !errors.Is(err, ErrClaimLost) {
				t.Errorf("finish %s with %s's token: %v, want ErrClaimLost", id, other, err)
			}
			if err := dbs[1].FinishNotification(ctx, id, token, Outcome{Status: StatusSent, Tries: 1, At: now}); err != nil {
				t.Errorf("finish %s: %v", id, err)
			}
		}
		if counts, err := dbs[0].NotificationCounts(ctx); err != nil || counts[StatusSent] != n {
			t.Errorf("counts %v, %v; want %d sent", counts, err, n)
		}
	})
}

// TestConcurrentReleaseOfExpiredClaims: two cores releasing the same
// expired claims at once count each interrupted send once, and report
// each release once.
func TestConcurrentReleaseOfExpiredClaims(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		const n = 40
		dbs, ids, now := twoCoresQueued(t, e, "e", n)
		if got, err := dbs[0].ClaimNotifications(ctx, ids, "gone", now, now.Add(time.Minute)); err != nil || len(got) != n {
			t.Fatalf("claim: %d, %v", len(got), err)
		}
		later := now.Add(time.Hour)
		released := make([][]string, len(dbs))
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if released[i], err = db.ReleaseExpiredClaims(ctx, later, "interrupted"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if total := len(released[0]) + len(released[1]); total != n {
			t.Errorf("released %d and %d, want %d in all", len(released[0]), len(released[1]), n)
		}
		for _, id := range ids {
			got, err := dbs[0].Notification(ctx, id)
			if err != nil || got.Status != StatusPending || got.Attempts != 1 {
				t.Errorf("%s: %s with %d attempts, %v; want pending with 1", id, got.Status, got.Attempts, err)
			}
		}
	})
}

// TestConcurrentMigrations: cores opening a new database at once apply
// each migration once.
func TestConcurrentMigrations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		target := e.target(t)
		const opens = 4
		dbs := make([]*DB, opens)
		errs := make([]error, opens)
		var wg sync.WaitGroup
		for i := range opens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dbs[i], errs[i] = Open(t.Context(), target, Options{})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			t.Cleanup(func() { _ = dbs[i].Close() })
		}
		known, err := loadMigrations(e.pg)
		if err != nil {
			t.Fatal(err)
		}
		var applied, distinct int
		if err := dbs[0].db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&applied, &distinct); err != nil {
			t.Fatal(err)
		}
		if applied != len(known) || distinct != len(known) {
			t.Errorf("schema_migrations has %d rows (%d versions), want %d", applied, distinct, len(known))
		}
		for i, db := range dbs {
			if v, err := db.SchemaVersion(t.Context()); err != nil || v != len(known) {
				t.Errorf("open %d: version %d, %v", i, v, err)
			}
		}
	})
}
