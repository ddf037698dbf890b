package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// schemaVersion reads a database's schema version as a consumer would.
func schemaVersion(t *testing.T, driver, dsn string) int {
	t.Helper()
	return queryInt(t, openDB(t, driver, dsn), `SELECT MAX(version) FROM schema_migrations`)
}

// TestDBInit prepares the --db database, or every storage block of the
// overlays: one that fails does not stop the others, and its error shows
// no secret.
func TestDBInit(t *testing.T) {
	dir := t.TempDir()
	dsn := pgtest.SchemaDSN(t)
	t.Setenv("CSCS_TEST_DBINIT_DSN", dsn)
	t.Setenv("CSCS_TEST_DBINIT_BAD", "postgres://cscs:dbinit-secret@127.0.0.1:1/none?connect_timeout=2")
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	overlay := filepath.Join(dir, "storages.hcl")
	must(t, os.WriteFile(overlay, []byte(fmt.Sprintf(`
storage "sqlite" "a" {
  path = %q
}
storage "postgres" "warehouse" {
  dsn = env("CSCS_TEST_DBINIT_DSN")
}
storage "postgres" "down" {
  dsn = env("CSCS_TEST_DBINIT_BAD")
}
storage "sqlite" "b" {
  path = %q
}
`, a, b)), 0o600))
	run := func(args ...string) (int, string, string) {
		return runMain(context.Background(), "test", append([]string{"db", "init", "--data-dir", filepath.Join(dir, "data")}, args...)...)
	}

	t.Run("the --db database", func(t *testing.T) {
		db := filepath.Join(dir, "plain.db")
		code, out, stderr := run("--db", db)
		if code != ExitOK || !strings.Contains(out, "schema version") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		if v := schemaVersion(t, "sqlite3", db); v < 5 {
			t.Errorf("schema version %d, want 5 or more", v)
		}
	})

	t.Run("the overlay's storages", func(t *testing.T) {
		code, out, stderr := run("--overlay", overlay, "--db", filepath.Join(dir, "unused.db"))
		if code != ExitSomeFailed {
			t.Fatalf("exit %d, want %d (one storage is down)\nstdout %q\nstderr %q", code, ExitSomeFailed, out, stderr)
		}
		for _, want := range []string{"storage sqlite a: ready", "storage postgres warehouse: ready", "storage sqlite b: ready"} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(stderr, "storage postgres down:") || strings.Contains(stderr, "dbinit-secret") || strings.Contains(out+stderr, dsn) {
			t.Errorf("stderr should name the failed storage without its secrets:\n%s", stderr)
		}
		for _, path := range []string{a, b} {
			if v := schemaVersion(t, "sqlite3", path); v < 5 {
				t.Errorf("%s: schema version %d, want 5 or more", path, v)
			}
		}
		if v := schemaVersion(t, "pgx", dsn); v < 5 {
			t.Errorf("PostgreSQL: schema version %d, want 5 or more", v)
		}
		if _, err := os.Stat(filepath.Join(dir, "unused.db")); err == nil {
			t.Error("--db was created although the overlay's storage blocks replace it")
		}
	})
}
