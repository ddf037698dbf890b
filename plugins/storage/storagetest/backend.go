package storagetest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// This file holds the tests every backend runs on its own store or
// plugin type, beyond what a Storage offers: each backend's test calls
// them with its types.

// OpenPlugin opens p with config, marshalled to JSON, and returns it.
func OpenPlugin(ctx context.Context, p storage.Storage, config any) (storage.Storage, error) {
	raw, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	if err := p.Open(ctx, raw); err != nil {
		return nil, err
	}
	return p, nil
}

// Store is a backend's store opened on a migrated database.
type Store interface {
	WriteBatch(ctx context.Context, b *storage.Batch) error
	Pruner
}

// PruneInChunks deletes more collections and events than one chunk holds
// and checks that every chunk was deleted and the latest ok collections
// kept. open returns a store on a fresh migrated database that deletes
// at most chunk rows per transaction (0: its default), and a connection
// to that database.
func PruneInChunks(t *testing.T, open func(t *testing.T, chunk int) (Store, *sql.DB)) {
	testTime := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	tests := map[string]int{"one chunk": 0, "chunks of 2": 2, "chunks of 3": 3}
	for name, chunk := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, db := open(t, chunk)
			for r := range 4 {
				// withState: one sent notification per host and round, and
				// one alert state per host, the last round's: .1 resolved.
				b := withState(SyntheticBatch(fmt.Sprintf("r%d", r), testTime.Add(time.Duration(r)*time.Hour), 3, 2))
				b.Collections[2].Status = storage.StatusTimeout
				// Three old events per host and round, and one per host
				// logged after the cutoff.
				for i := range b.Collections {
					for k := range 4 {
						at := b.StartedAt
						if k == 3 {
							at = testTime.Add(48 * time.Hour)
						}
						b.Collections[i].Events = append(b.Collections[i].Events, storage.Event{
							Channel: "Security", RecordID: uint64(r*10 + k), Time: at, EventID: 4625,
						})
					}
				}
				if err := s.WriteBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			// 12 collections; the last round's two ok ones are kept. 48
			// events; the 12 logged after the cutoff are kept.
			// 12 sent notifications, all old; 3 alert states, one resolved.
			cutoff := testTime.Add(24 * time.Hour)
			want := storage.Pruned{Collections: 10, Events: 36, Notifications: 12, Alerts: 1}
			preview, err := s.PreviewAll(ctx, cutoff)
			if preview.Target = ""; err != nil || preview != want {
				t.Fatalf("PreviewAll = %+v, %v; want %+v", preview, err, want)
			}
			got, err := s.PruneAll(ctx, cutoff)
			if got.Target = ""; err != nil || got != want {
				t.Fatalf("PruneAll = %+v, %v; want %+v", got, err, want)
			}
			const left = `SELECT h.ip, c.round_id FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip`
			if got := Dump(t, db, left); got != "ip=10.0.0.0 round_id=r3 \nip=10.0.0.1 round_id=r3 \n" {
				t.Errorf("left after Prune:\n%s", got)
			}
			if n := Count(t, db, "samples"); n != 4 {
				t.Errorf("samples = %d after Prune; want 4 (foreign keys cascade)", n)
			}
			if n := Count(t, db, "events"); n != 12 {
				t.Errorf("events = %d after Prune; want 12", n)
			}
			if got := Dump(t, db, `SELECT firing FROM alerts`); got != "firing=1 \nfiring=1 \n" {
				t.Errorf("alerts after Prune:\n%s\nwant the 2 firing ones", got)
			}
			if n := Count(t, db, "notifications"); n != 0 {
				t.Errorf("notifications = %d after Prune; want 0", n)
			}
		})
	}
}

// FailedPrune is a plugin whose automatic prune is made to fail.
type FailedPrune struct {
	// Open opens a new plugin logging to logger with a retention of an
	// hour, and returns it with its open store.
	Open func(ctx context.Context, logger hclog.Logger) (storage.Storage, Store, error)
	// SQL is a connection to the plugin's database.
	SQL *sql.DB
	// RefuseDeletes makes the database refuse to delete collections with
	// the error "deletes refused by test".
	RefuseDeletes string
}

// FailedAutomaticPruneIsLogged makes the database refuse deletes: the
// round must still be stored and reported stored, and the failure logged.
func FailedAutomaticPruneIsLogged(t *testing.T, f FailedPrune) {
	ctx := context.Background()
	var log bytes.Buffer
	p, st, err := f.Open(ctx, hclog.New(&hclog.LoggerOptions{Output: &log}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if _, err := f.SQL.Exec(f.RefuseDeletes); err != nil {
		t.Fatal(err)
	}
	// Straight to the store: the plugin's first write is the one that prunes.
	if err := st.WriteBatch(ctx, SyntheticBatch("old", time.Now().Add(-3*time.Hour), 2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBatch(ctx, SyntheticBatch("new", time.Now(), 2, 1)); err != nil {
		t.Fatalf("WriteBatch failed because pruning failed: %v", err)
	}
	if n := Count(t, f.SQL, "collections"); n != 4 {
		t.Errorf("collections = %d; want 4 (both rounds stored, nothing pruned)", n)
	}
	if !strings.Contains(log.String(), "pruning old collections, events, notification records and alert states failed") || !strings.Contains(log.String(), "deletes refused by test") {
		t.Errorf("log does not report the failed prune:\n%s", log.String())
	}
}

// PruneBeforeOpen checks that p, never opened, refuses to prune.
func PruneBeforeOpen(t *testing.T, p Pruner) {
	if _, err := p.PruneAll(context.Background(), time.Now()); err == nil || !strings.Contains(err.Error(), "before Open") {
		t.Fatalf("PruneAll before Open: %v", err)
	}
	if _, err := p.PreviewAll(context.Background(), time.Now()); err == nil || !strings.Contains(err.Error(), "before Open") {
		t.Fatalf("PreviewAll before Open: %v", err)
	}
}

// RunUpgradesBeyond runs RunUpgrades over ms plus one test-only version
// beyond them, read from the file example, so that every step, up to one
// the embedded set does not have yet, upgrades a database that holds
// data. newDatabase returns a fresh database with the given migrations.
func RunUpgradesBeyond(t *testing.T, ms []sqlmigrate.Migration, example string, newDatabase func(t *testing.T, ms []sqlmigrate.Migration) Database) {
	body, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	ms = append(ms, sqlmigrate.Migration{Version: len(ms) + 1, Name: "example_site", SQL: string(body)})
	RunUpgrades(t, func(t *testing.T) Database {
		d := newDatabase(t, ms)
		d.Open = nil // a Storage knows only the embedded version
		return d
	})
}

// Migrations are the migrations in dir of fsys (see sqlmigrate.Load); an
// error fails the test.
func Migrations(t testing.TB, fsys fs.FS, dir string) []sqlmigrate.Migration {
	t.Helper()
	ms, err := sqlmigrate.Load(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// DeclaredConfig is the configuration schema p's Describe declares,
// checked to be valid and to match config, the plugin's Config struct:
// the same keys and types.
func DeclaredConfig(t *testing.T, p storage.Storage, config any) schema.Schema {
	t.Helper()
	d, err := sdktest.Storage(t, p).Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	sdktest.SchemaMatchesStruct(t, d.Config, config)
	return d.Config
}
