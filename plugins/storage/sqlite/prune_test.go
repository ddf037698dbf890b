package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

var testTime = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

func TestPruneInChunks(t *testing.T) {
	storagetest.PruneInChunks(t, func(t *testing.T, chunk int) (storagetest.Store, *sql.DB) {
		s := migratedStore(t)
		s.pruneChunk = chunk
		return s, s.db
	})
}

func TestPluginPruneBeforeOpen(t *testing.T) { storagetest.PruneBeforeOpen(t, &Plugin{}) }

func TestFailedAutomaticPruneIsLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "refuse.db")
	db := openStore(t, path).db // a second handle on the file, for the test's SQL
	storagetest.FailedAutomaticPruneIsLogged(t, storagetest.FailedPrune{
		Open: func(ctx context.Context, logger hclog.Logger) (storage.Storage, storagetest.Store, error) {
			p := &Plugin{Logger: logger}
			_, err := storagetest.OpenPlugin(ctx, p, Config{Path: path, Retention: "1h"})
			return p, p.current(), err
		},
		SQL:           db,
		RefuseDeletes: `CREATE TRIGGER refuse_delete BEFORE DELETE ON collections BEGIN SELECT RAISE(ABORT, 'deletes refused by test'); END`,
	})
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
	plan := storagetest.Dump(t, s.db, "EXPLAIN QUERY PLAN "+args.Replace(pruneCollections.Delete("?2")))
	for _, want := range []string{"collections_started", "collections_host_status_started"} {
		if !strings.Contains(plan, want) {
			t.Errorf("prune plan does not use %s:\n%s", want, plan)
		}
	}
	if plan := storagetest.Dump(t, s.db, "EXPLAIN QUERY PLAN "+args.Replace(pruneEvents.Delete("?2"))); !strings.Contains(plan, "events_time") {
		t.Errorf("event prune plan does not use events_time:\n%s", plan)
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
	if _, err := (&Plugin{}).PrunePreview(ctx, config(missing), testTime); err == nil || !strings.Contains(err.Error(), "no database at "+missing) {
		t.Errorf("PrunePreview of a missing file: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("Prune or PrunePreview created the database")
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Plugin{}).Prune(ctx, config(empty), testTime); err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Errorf("Prune of a database not migrated: %v", err)
	}
	if _, err := (&Plugin{}).PrunePreview(ctx, config(empty), testTime); err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Errorf("PrunePreview of a database not migrated: %v", err)
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
	if err != nil || p != (storage.Pruned{Target: path}) {
		t.Errorf("Prune of an empty database = %+v, %v", p, err)
	}
	preview, err := (&Plugin{}).PrunePreview(ctx, config(path), testTime)
	if err != nil || preview != (storage.Pruned{Target: path}) {
		t.Errorf("PrunePreview of an empty database = %+v, %v", preview, err)
	}
	if _, err := (&Plugin{}).Migrate(ctx, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `"path" is required`) {
		t.Errorf("Migrate without a path: %v", err)
	}
}
