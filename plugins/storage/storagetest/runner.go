package storagetest

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

// MigrationTarget is a fresh, empty database of one backend for
// MigrationRunner.
type MigrationTarget struct {
	DB *sql.DB
	// Migrate is the backend's migration runner, applying ms to DB.
	Migrate func(ctx context.Context, ms []sqlmigrate.Migration) error
	// SchemaVersion is the version DB's schema_migrations records.
	SchemaVersion func(ctx context.Context) (int, error)
	// Tables lists the tables of DB, sorted, one a row in a column
	// "name".
	Tables string
}

// MigrationRunner checks a backend's migration runner itself with
// made-up migration sets: each case runs it twice on a fresh database
// from open, with one set and then another, and checks the second run's
// error, the schema's version and which tables exist.
func MigrationRunner(t *testing.T, open func(t *testing.T) MigrationTarget) {
	v1 := &fstest.MapFile{Data: []byte(`CREATE TABLE a (x integer);`)}
	v2 := &fstest.MapFile{Data: []byte(`CREATE TABLE b (y integer); CREATE INDEX b_y ON b (y);`)}
	v2bad := &fstest.MapFile{Data: []byte(`CREATE TABLE b (y integer); INSERT INTO nowhere VALUES (1);`)}

	tests := map[string]struct {
		first, second fstest.MapFS // applied one after the other
		wantErr       string       // from the second run
		wantVersion   int
		wantTables    []string // besides schema_migrations
	}{
		"upgrade applies only the new migration": {
			first:       fstest.MapFS{"m/0001_a.sql": v1},
			second:      fstest.MapFS{"m/0001_a.sql": v1, "m/0002_b.sql": v2},
			wantVersion: 2,
			wantTables:  []string{"a", "b"},
		},
		"failing migration leaves the previous version intact": {
			first:       fstest.MapFS{"m/0001_a.sql": v1},
			second:      fstest.MapFS{"m/0001_a.sql": v1, "m/0002_b.sql": v2bad},
			wantErr:     "apply migration 0002_b",
			wantVersion: 1,
			wantTables:  []string{"a"},
		},
		"two migrations from scratch in order": {
			first:       fstest.MapFS{"m/0001_a.sql": v1, "m/0002_b.sql": v2},
			second:      fstest.MapFS{"m/0001_a.sql": v1, "m/0002_b.sql": v2},
			wantVersion: 2,
			wantTables:  []string{"a", "b"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			d := open(t)
			for i, set := range []fstest.MapFS{tc.first, tc.second} {
				err := d.Migrate(ctx, Migrations(t, set, "m"))
				switch {
				case i == 0 && err != nil:
					t.Fatalf("first run: %v", err)
				case i == 1 && tc.wantErr == "" && err != nil:
					t.Fatalf("second run: %v", err)
				case i == 1 && tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Fatalf("second run error %v; want it to contain %q", err, tc.wantErr)
				}
			}
			if v, err := d.SchemaVersion(ctx); err != nil || v != tc.wantVersion {
				t.Errorf("version = %d, %v; want %d", v, err, tc.wantVersion)
			}
			if n := Count(t, d.DB, "schema_migrations"); n != tc.wantVersion {
				t.Errorf("schema_migrations has %d rows; want %d", n, tc.wantVersion)
			}
			want := "name=" + strings.Join(append(tc.wantTables, "schema_migrations"), " \nname=") + " \n"
			if got := Dump(t, d.DB, d.Tables); got != want {
				t.Errorf("tables:\n%s\nwant\n%s", got, want)
			}
		})
	}
}
