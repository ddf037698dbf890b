package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// TestRunStateOnPostgres: `cscs run --state env:NAME` keeps the core's
// state in the PostgreSQL schema the variable names, not in state.db: two
// runs there leave each host's alert state and recent values in it; an
// unset variable is a configuration error.
func TestRunStateOnPostgres(t *testing.T) {
	r, _ := fleetRound(t, "")
	dsn := pgtest.SchemaDSN(t)
	t.Setenv("CSCS_TEST_STATE", dsn)
	for round := 1; round <= 2; round++ {
		code, out, stderr := runCLI(t, r.args("--state", "env:CSCS_TEST_STATE"))
		if code != ExitOK || out.Counts["ok"] != 2 {
			t.Fatalf("round %d: exit %d, counts %v\n%s", round, code, out.Counts, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(r.dataDir, "state.db")); !os.IsNotExist(err) {
		t.Errorf("state.db in the data dir (%v); the state belongs in PostgreSQL", err)
	}
	db := openDB(t, "pgx", dsn)
	if n := queryInt(t, db, `SELECT COUNT(*) FROM alert_state`); n != 2 {
		t.Errorf("%d alert states in PostgreSQL, want the 2 hosts' down rule", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(DISTINCT host_ip) FROM recent_values`); n != 2 {
		t.Errorf("recent values of %d hosts in PostgreSQL, want 2", n)
	}
	if code, _, stderr := runMain(t.Context(), "test", r.args("--state", "env:CSCS_TEST_UNSET")...); code != ExitBadConfig {
		t.Errorf("--state env:UNSET: exit %d, want %d\n%s", code, ExitBadConfig, stderr)
	}
}
