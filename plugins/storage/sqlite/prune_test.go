package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

var testTime = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

// TestPruneInChunks deletes more collections than one chunk holds and
// checks that every chunk was deleted and the latest ok ones kept.
func TestPruneInChunks(t *testing.T) {
	tests := map[string]int{"one chunk": 0, "chunks of 2": 2, "chunks of 3": 3}
	for name, chunk := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := migratedStore(t)
			s.pruneChunk = chunk
			for r := range 4 {
				b := storagetest.SyntheticBatch(fmt.Sprintf("r%d", r), testTime.Add(time.Duration(r)*time.Hour), 3, 2)
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
			deleted, events, err := s.PruneAll(ctx, testTime.Add(24*time.Hour))
			if err != nil || deleted != 10 || events != 36 {
				t.Fatalf("PruneAll = %d collections, %d events, %v; want 10, 36, nil", deleted, events, err)
			}
			const left = `SELECT h.ip, c.round_id FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip`
			if got := dumpTable(t, s.db, left); got != "ip=10.0.0.0 round_id=r3 \nip=10.0.0.1 round_id=r3 \n" {
				t.Errorf("left after Prune:\n%s", got)
			}
			if n := countRows(t, s.db, "samples"); n != 4 {
				t.Errorf("samples = %d after Prune; want 4 (foreign keys cascade)", n)
			}
			if n := countRows(t, s.db, "events"); n != 12 {
				t.Errorf("events = %d after Prune; want 12", n)
			}
		})
	}
}

func TestPruneRefusesUnmigratedDatabase(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "empty.db"))
	if _, err := s.Prune(context.Background(), testTime); err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Fatalf("Prune before Migrate: error %v; want one that says to run cscs db init", err)
	}
}

// TestPruneUsesAnIndex keeps pruning cheap on a large database: finding
// old collections and each host's latest ok one must not scan the table.
func TestPruneUsesAnIndex(t *testing.T) {
	s := migratedStore(t)
	args := strings.NewReplacer("?1", "'2026-01-01T00:00:00.000Z'", "?2", "10")
	plan := dumpTable(t, s.db, "EXPLAIN QUERY PLAN "+args.Replace(pruneSQL))
	for _, want := range []string{"collections_started", "collections_host_status_started"} {
		if !strings.Contains(plan, want) {
			t.Errorf("prune plan does not use %s:\n%s", want, plan)
		}
	}
	if plan := dumpTable(t, s.db, "EXPLAIN QUERY PLAN "+args.Replace(pruneEventsSQL)); !strings.Contains(plan, "events_time") {
		t.Errorf("event prune plan does not use events_time:\n%s", plan)
	}
}

func TestPluginPruneBeforeOpen(t *testing.T) {
	if _, _, err := (&Plugin{}).PruneAll(context.Background(), testTime); err == nil || !strings.Contains(err.Error(), "before Open") {
		t.Fatalf("PruneAll before Open: %v", err)
	}
}

// TestPluginMaintenance: the storage contract's Migrate creates and
// reports the schema; Prune never creates a database, refuses one not
// migrated, and reports what it deleted.
func TestPluginMaintenance(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	config := func(path string) []byte {
		raw, err := json.Marshal(Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	missing := filepath.Join(dir, "missing.db")
	if _, err := (&Plugin{}).Prune(ctx, config(missing), testTime); err == nil || !strings.Contains(err.Error(), "no database at "+missing) {
		t.Errorf("Prune of a missing file: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("Prune created the database")
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Plugin{}).Prune(ctx, config(empty), testTime); err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Errorf("Prune of a database not migrated: %v", err)
	}
	path := filepath.Join(dir, "cscs.db")
	m, err := (&Plugin{}).Migrate(ctx, config(path))
	if err != nil || m.Target != path || m.SchemaVersion < 5 {
		t.Fatalf("Migrate = %+v, %v; want %s at version 5 or more", m, err, path)
	}
	again, err := (&Plugin{}).Migrate(ctx, config(path))
	if err != nil || again != m {
		t.Errorf("Migrate again = %+v, %v; want %+v", again, err, m)
	}
	p, err := (&Plugin{}).Prune(ctx, config(path), testTime)
	if err != nil || p.Target != path || p.Collections != 0 || p.Events != 0 {
		t.Errorf("Prune of an empty database = %+v, %v", p, err)
	}
	if _, err := (&Plugin{}).Migrate(ctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `"path" is required`) {
		t.Errorf("Migrate without a path: %v", err)
	}
}
