package postgres

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// testTime is the time the tests' batches are dated from.
var testTime = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

// newSchema returns the DSN of a fresh, empty schema of the test server
// and a database/sql handle on it.
func newSchema(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := pgtest.SchemaDSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return dsn, db
}

// openStore connects a Store to dsn and closes it when the test ends. It
// does not migrate.
func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// migratedStore is a Store on a fresh schema, migrated, with a
// database/sql handle on the same schema.
func migratedStore(t testing.TB) (*Store, *sql.DB) {
	t.Helper()
	dsn, db := newSchema(t)
	s := openStore(t, dsn)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s, db
}
