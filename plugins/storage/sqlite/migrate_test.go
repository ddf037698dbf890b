package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

func TestMigrateFreshDatabase(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "fresh.db"))

	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("SchemaVersion before Migrate = %d, %v; want 0, nil", v, err)
	}
	if n := storagetest.Count(t, s.db, "sqlite_master"); n != 0 {
		t.Fatalf("New created %d schema objects; want none before Migrate", n)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 6 {
		t.Fatalf("SchemaVersion after Migrate = %d, %v; want 6, nil", v, err)
	}

	want := map[string]string{
		"schema_migrations":               "table",
		"hosts":                           "table",
		"collections":                     "table",
		"samples":                         "table",
		"latest_stats":                    "view",
		"collections_host_started":        "index",
		"collections_host_status_started": "index",
		"collections_status_started":      "index",
		"collections_started":             "index",
		"samples_host_metric_collected":   "index",
		"alerts":                          "table",
		"notifications":                   "table",
		"firing_alerts":                   "view",
		"notifications_status_created":    "index",
		"notifications_host_created":      "index",
		"events":                          "table",
		"events_host_time":                "index",
		"events_event_id_time":            "index",
		"events_time":                     "index",
		"events_collection":               "index",
	}
	for name, typ := range want {
		var got string
		err := s.db.QueryRow(`SELECT type FROM sqlite_master WHERE name = ?`, name).Scan(&got)
		if err != nil || got != typ {
			t.Errorf("schema object %s: type %q, err %v; want %s", name, got, err, typ)
		}
	}

	var name, appliedAt string
	if err := s.db.QueryRow(`SELECT name, applied_at FROM schema_migrations WHERE version = 1`).Scan(&name, &appliedAt); err != nil {
		t.Fatal(err)
	}
	if name != "init" {
		t.Errorf("migration 1 recorded as %q; want init", name)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(appliedAt) {
		t.Errorf("applied_at %q is not UTC ISO-8601 with milliseconds", appliedAt)
	}

	var journal string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil || journal != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", journal, err)
	}
	var fk int
	if err := s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twice.db")
	s := openStore(t, path)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	schemaBefore := storagetest.Dump(t, s.db, `SELECT type, name, sql FROM sqlite_master ORDER BY name`)
	versionsBefore := storagetest.Dump(t, s.db, `SELECT * FROM schema_migrations ORDER BY version`)

	// Again on the same handle and on a second handle, as a second
	// `cscs db init` would.
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := openStore(t, path).Migrate(ctx); err != nil {
		t.Fatalf("Migrate on second handle: %v", err)
	}

	if got := storagetest.Dump(t, s.db, `SELECT type, name, sql FROM sqlite_master ORDER BY name`); got != schemaBefore {
		t.Errorf("schema changed on second Migrate:\n%s\nwant\n%s", got, schemaBefore)
	}
	if got := storagetest.Dump(t, s.db, `SELECT * FROM schema_migrations ORDER BY version`); got != versionsBefore {
		t.Errorf("schema_migrations changed on second Migrate:\n%s\nwant\n%s", got, versionsBefore)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, 'future', '2030-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}

	err := s.Migrate(ctx)
	const want = "database schema version 7 is newer than this cscs (knows 6); upgrade cscs"
	if err == nil || err.Error() != want {
		t.Fatalf("Migrate error = %v; want %q", err, want)
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 7 || tooNew.Known != 6 {
		t.Errorf("Migrate error %#v is not a SchemaTooNewError{7, 2}", err)
	}

	err = s.WriteBatch(ctx, loadBatch(t, "mixed_round.json"))
	if !errors.As(err, &tooNew) {
		t.Errorf("WriteBatch on a newer schema: error %v; want a SchemaTooNewError", err)
	}
	if n := storagetest.Count(t, s.db, "hosts"); n != 0 {
		t.Errorf("WriteBatch on a newer schema wrote %d hosts", n)
	}
}

func TestWriteBatchRefusesUnmigratedDatabase(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "empty.db"))
	err := s.WriteBatch(context.Background(), loadBatch(t, "mixed_round.json"))
	if err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Fatalf("WriteBatch before Migrate: error %v; want one that says to run cscs db init", err)
	}
}

// TestMigrationRunner checks the runner itself with made-up migration sets.
func TestMigrationRunner(t *testing.T) {
	storagetest.MigrationRunner(t, func(t *testing.T) storagetest.MigrationTarget {
		s := openStore(t, filepath.Join(t.TempDir(), "runner.db"))
		return storagetest.MigrationTarget{
			DB:            s.db,
			Migrate:       func(ctx context.Context, ms []migration) error { return migrate(ctx, s.db, ms) },
			SchemaVersion: s.SchemaVersion,
			Tables:        `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`,
		}
	})
}

// TestEmbeddedMigrations: the migrations shipped in the binary, in order.
func TestEmbeddedMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles, migrationDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, fmt.Sprintf("%04d_%s", m.Version, m.Name))
	}
	want := []string{"0001_init", "0002_alerts_notifications", "0003_events", "0004_events_key_time", "0005_notifications_channel", "0006_sample_labels"}
	if !slices.Equal(names, want) {
		t.Errorf("embedded migrations %v; want %v", names, want)
	}
}

func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "race.db")
	stores := []*Store{openStore(t, path), openStore(t, path), openStore(t, path)}
	errs := make(chan error, len(stores))
	for _, s := range stores {
		go func() { errs <- s.Migrate(ctx) }()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	if n := storagetest.Count(t, stores[0].db, "schema_migrations"); n != 6 {
		t.Errorf("schema_migrations has %d rows after concurrent Migrate; want 6", n)
	}
}

// TestEventsTableAfterRebuild checks what 0004_events_key_time leaves: SQLite
// cannot change a primary key, so the migration rebuilds events; the key
// is host, channel, record id and time, the foreign keys and the CHECK on
// fields are kept, and nothing of the rebuild is left.
func TestEventsTableAfterRebuild(t *testing.T) {
	s := migratedStore(t)
	const wantKey = "name=host_id pk=1 \nname=channel pk=2 \nname=record_id pk=3 \nname=event_time pk=4 \n"
	if got := storagetest.Dump(t, s.db, `SELECT name, pk FROM pragma_table_info('events') WHERE pk > 0 ORDER BY pk`); got != wantKey {
		t.Errorf("primary key of events:\n%s\nwant\n%s", got, wantKey)
	}
	const wantFKs = "table=collections from=collection_id on_delete=SET NULL \ntable=hosts from=host_id on_delete=NO ACTION \n"
	if got := storagetest.Dump(t, s.db, `SELECT "table", "from", on_delete FROM pragma_foreign_key_list('events') ORDER BY "table"`); got != wantFKs {
		t.Errorf("foreign keys of events:\n%s\nwant\n%s", got, wantFKs)
	}
	if n := storagetest.Dump(t, s.db, `SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'events_new' OR sql LIKE '%events_new%'`); n != "n=0 \n" {
		t.Errorf("left of the rebuild: %s", n)
	}
	if _, err := s.db.Exec(`INSERT INTO hosts (ip, port) VALUES ('10.0.0.1', 22)`); err != nil {
		t.Fatal(err)
	}
	_, err := s.db.Exec(`INSERT INTO events (host_id, channel, record_id, event_time, fields)
	                     VALUES ((SELECT id FROM hosts), 'Security', 1, '2026-11-26T10:00:00.000Z', '[]')`)
	if err == nil || !strings.Contains(err.Error(), "events_fields_object") {
		t.Errorf("fields that are not an object: %v; want the events_fields_object check to refuse them", err)
	}
}

func TestUpgradeWithData(t *testing.T) {
	storagetest.RunUpgradesBeyond(t, storagetest.Migrations(t, migrationFiles, migrationDir), "testdata/upgrade/example_site.sql", contractDatabase)
}
