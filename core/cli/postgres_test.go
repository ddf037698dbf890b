package cli

import (
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// TestRoundIntoPostgres: `--db env:NAME` holding a postgres:// DSN sends
// the round to PostgreSQL (through the built-in postgres storage plugin),
// and the DSN's password never shows in the output.
func TestRoundIntoPostgres(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	r, _ := fleetRound(t, "env:CSCS_TEST_ROUND_DSN")
	t.Setenv("CSCS_TEST_ROUND_DSN", dsn)

	for round := 1; round <= 2; round++ {
		code, out, stderr := runCLI(t, r.args())
		if code != ExitOK || out.Counts["ok"] != 2 {
			t.Fatalf("round %d: exit %d, counts %v\n%s", round, code, out.Counts, stderr)
		}
		if !strings.HasPrefix(out.Database, "postgres://") || strings.Contains(out.Database, "@") {
			t.Errorf("database named %q, want a DSN without credentials", out.Database)
		}
	}
	db := openDB(t, "pgx", dsn)
	if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE status = 'ok'`); n != 4 {
		t.Errorf("%d ok collections in PostgreSQL, want 4", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM latest_stats WHERE cpu_percent BETWEEN 0 AND 100 AND memory_percent > 0`); n != 2 {
		t.Errorf("latest_stats has %d sane rows, want 2", n)
	}
}
