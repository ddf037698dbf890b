package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

func TestMigrateFreshDatabase(t *testing.T) {
	ctx := context.Background()
	dsn, db := newSchema(t)
	s := openStore(t, dsn)
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("SchemaVersion before Migrate = %d, %v; want 0, nil", v, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 6 {
		t.Fatalf("SchemaVersion after Migrate = %d, %v; want 6, nil", v, err)
	}

	// Every object docs/schema.md names, in the test's own schema.
	const objects = `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c
	                 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'i')
	                 ORDER BY c.relname`
	const wantObjects = "" +
		"name=alerts kind=r \n" +
		"name=alerts_pkey kind=i \n" +
		"name=collections kind=r \n" +
		"name=collections_host_started kind=i \n" +
		"name=collections_host_status_started kind=i \n" +
		"name=collections_pkey kind=i \n" +
		"name=collections_round_id_host_id_key kind=i \n" +
		"name=collections_started kind=i \n" +
		"name=collections_status_started kind=i \n" +
		"name=events kind=r \n" +
		"name=events_collection kind=i \n" +
		"name=events_event_id_time kind=i \n" +
		"name=events_host_time kind=i \n" +
		"name=events_pkey kind=i \n" +
		"name=events_time kind=i \n" +
		"name=firing_alerts kind=v \n" +
		"name=hosts kind=r \n" +
		"name=hosts_ip_port_key kind=i \n" +
		"name=hosts_pkey kind=i \n" +
		"name=latest_stats kind=v \n" +
		"name=notifications kind=r \n" +
		"name=notifications_host_created kind=i \n" +
		"name=notifications_pkey kind=i \n" +
		"name=notifications_status_created kind=i \n" +
		"name=samples kind=r \n" +
		"name=samples_host_metric_collected kind=i \n" +
		"name=samples_pkey kind=i \n" +
		"name=schema_migrations kind=r \n" +
		"name=schema_migrations_pkey kind=i \n"
	if got := storagetest.Dump(t, db, objects); got != wantObjects {
		t.Errorf("schema objects:\n%s\nwant\n%s", got, wantObjects)
	}

	// Native types, as docs/schema.md lists them per backend.
	const types = `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
	               WHERE table_schema = current_schema() AND table_name IN ('hosts', 'collections', 'samples', 'latest_stats')
	                 AND column_name IN ('id', 'port', 'first_seen', 'started_at', 'connect_ms', 'agent_uploaded',
	                                     'value', 'collected_at', 'cpu_percent', 'host_id')
	               ORDER BY table_name, column_name`
	const wantTypes = "" +
		"table_name=collections column_name=agent_uploaded data_type=boolean is_nullable=NO \n" +
		"table_name=collections column_name=connect_ms data_type=double precision is_nullable=YES \n" +
		"table_name=collections column_name=host_id data_type=bigint is_nullable=NO \n" +
		"table_name=collections column_name=id data_type=bigint is_nullable=NO \n" +
		"table_name=collections column_name=started_at data_type=timestamp with time zone is_nullable=NO \n" +
		"table_name=hosts column_name=first_seen data_type=timestamp with time zone is_nullable=YES \n" +
		"table_name=hosts column_name=id data_type=bigint is_nullable=NO \n" +
		"table_name=hosts column_name=port data_type=integer is_nullable=NO \n" +
		"table_name=latest_stats column_name=collected_at data_type=timestamp with time zone is_nullable=YES \n" +
		"table_name=latest_stats column_name=cpu_percent data_type=double precision is_nullable=YES \n" +
		"table_name=latest_stats column_name=host_id data_type=bigint is_nullable=YES \n" +
		"table_name=samples column_name=collected_at data_type=timestamp with time zone is_nullable=NO \n" +
		"table_name=samples column_name=host_id data_type=bigint is_nullable=NO \n" +
		"table_name=samples column_name=value data_type=double precision is_nullable=NO \n"
	if got := storagetest.Dump(t, db, types); got != wantTypes {
		t.Errorf("column types:\n%s\nwant\n%s", got, wantTypes)
	}

	const stateTypes = `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
	                    WHERE table_schema = current_schema() AND table_name IN ('alerts', 'notifications')
	                      AND column_name IN ('host_id', 'firing', 'since', 'last_value', 'updated_at',
	                                          'recipients', 'attempts', 'sent_at')
	                    ORDER BY table_name, column_name`
	const wantStateTypes = "" +
		"table_name=alerts column_name=firing data_type=boolean is_nullable=NO \n" +
		"table_name=alerts column_name=host_id data_type=bigint is_nullable=NO \n" +
		"table_name=alerts column_name=last_value data_type=double precision is_nullable=YES \n" +
		"table_name=alerts column_name=since data_type=timestamp with time zone is_nullable=YES \n" +
		"table_name=alerts column_name=updated_at data_type=timestamp with time zone is_nullable=NO \n" +
		"table_name=notifications column_name=attempts data_type=integer is_nullable=NO \n" +
		"table_name=notifications column_name=host_id data_type=bigint is_nullable=YES \n" +
		"table_name=notifications column_name=recipients data_type=jsonb is_nullable=NO \n" +
		"table_name=notifications column_name=sent_at data_type=timestamp with time zone is_nullable=YES \n" +
		"table_name=notifications column_name=updated_at data_type=timestamp with time zone is_nullable=NO \n"
	if got := storagetest.Dump(t, db, stateTypes); got != wantStateTypes {
		t.Errorf("alerts and notifications column types:\n%s\nwant\n%s", got, wantStateTypes)
	}

	const eventTypes = `SELECT column_name, data_type, is_nullable FROM information_schema.columns
	                    WHERE table_schema = current_schema() AND table_name = 'events'
	                    ORDER BY ordinal_position`
	const wantEventTypes = "" +
		"column_name=host_id data_type=bigint is_nullable=NO \n" +
		"column_name=channel data_type=text is_nullable=NO \n" +
		"column_name=record_id data_type=bigint is_nullable=NO \n" +
		"column_name=collection_id data_type=bigint is_nullable=YES \n" +
		"column_name=event_time data_type=timestamp with time zone is_nullable=NO \n" +
		"column_name=level data_type=text is_nullable=YES \n" +
		"column_name=provider data_type=text is_nullable=YES \n" +
		"column_name=event_id data_type=bigint is_nullable=NO \n" +
		"column_name=computer data_type=text is_nullable=YES \n" +
		"column_name=message data_type=text is_nullable=YES \n" +
		"column_name=fields data_type=jsonb is_nullable=NO \n"
	if got := storagetest.Dump(t, db, eventTypes); got != wantEventTypes {
		t.Errorf("events column types:\n%s\nwant\n%s", got, wantEventTypes)
	}

	const latestColumns = `SELECT string_agg(column_name, ',' ORDER BY ordinal_position) AS columns
	                       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'latest_stats'`
	const wantColumns = "columns=host_id,host_ip,host_port,hostname,os,arch,collection_id,round_id,agent_version,collected_at," +
		"cpu_percent,memory_percent,swap_percent,load1,load5,load15,uptime_seconds,disk_used_percent_max \n"
	if got := storagetest.Dump(t, db, latestColumns); got != wantColumns {
		t.Errorf("latest_stats columns:\n%s\nwant\n%s", got, wantColumns)
	}

	const wantVersions = "version=1 name=init \nversion=2 name=alerts_notifications \nversion=3 name=events \nversion=4 name=events_key_time \nversion=5 name=notifications_channel \nversion=6 name=sample_labels \n"
	if got := storagetest.Dump(t, db, `SELECT version, name FROM schema_migrations ORDER BY version`); got != wantVersions {
		t.Errorf("schema_migrations = %q; want %q", got, wantVersions)
	}
}

func TestWriteBatchRefusesUnmigratedDatabase(t *testing.T) {
	dsn, _ := newSchema(t)
	s := openStore(t, dsn)
	b := storagetest.SyntheticBatch("r", testTime, 2, 2)
	if err := s.WriteBatch(context.Background(), b); err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Fatalf("WriteBatch before Migrate: error %v; want one that says to run cscs db init", err)
	}
	if _, err := s.Prune(context.Background(), testTime); err == nil || !strings.Contains(err.Error(), "cscs db init") {
		t.Fatalf("Prune before Migrate: error %v; want one that says to run cscs db init", err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	s, db := migratedStore(t)
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (7, 'future', now())`); err != nil {
		t.Fatal(err)
	}
	err := s.Migrate(context.Background())
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 7 || tooNew.Known != 6 {
		t.Fatalf("Migrate error %v; want a SchemaTooNewError{7, 6}", err)
	}
}

// TestMigrationRunner checks the runner itself with made-up migration sets.
func TestMigrationRunner(t *testing.T) {
	storagetest.MigrationRunner(t, func(t *testing.T) storagetest.MigrationTarget {
		dsn, db := newSchema(t)
		s := openStore(t, dsn)
		return storagetest.MigrationTarget{
			DB:            db,
			Migrate:       func(ctx context.Context, ms []migration) error { return migrate(ctx, s.pool, ms) },
			SchemaVersion: s.SchemaVersion,
			Tables: `SELECT table_name AS name FROM information_schema.tables
			         WHERE table_schema = current_schema() ORDER BY table_name`,
		}
	})
}

// TestMigrationsMatchSQLite keeps the two backends' migrations in step:
// the same versions with the same names.
func TestMigrationsMatchSQLite(t *testing.T) {
	entries, err := os.ReadDir("../sqlite/migrations")
	if err != nil {
		t.Fatal(err)
	}
	var sqlite []string
	for _, e := range entries {
		sqlite = append(sqlite, e.Name())
	}
	var ours []string
	for _, m := range storagetest.Migrations(t, migrationFiles, migrationDir) {
		ours = append(ours, fmt.Sprintf("%04d_%s.sql", m.Version, m.Name))
	}
	if strings.Join(ours, " ") != strings.Join(sqlite, " ") {
		t.Errorf("postgres migrations %v; sqlite has %v: a migration must come to both backends", ours, sqlite)
	}
}

func TestUpgradeWithData(t *testing.T) {
	storagetest.RunUpgradesBeyond(t, storagetest.Migrations(t, migrationFiles, migrationDir), "testdata/upgrade/example_site.sql", contractDatabase)
}
