package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSpoolsWhileDatabaseIsDown: a round whose database cannot be opened
// is spooled (exit 1), and the next run stores it before its own round.
func TestRunSpoolsWhileDatabaseIsDown(t *testing.T) {
	dir := t.TempDir()
	r, _ := fleetRound(t, filepath.Join(dir, "db", "cscs.db"))

	// The database's directory is a file: the database cannot be opened.
	must(t, os.WriteFile(filepath.Join(dir, "db"), nil, 0o600))
	code, first, stderr := runCLI(t, r.args())
	if code != ExitSomeFailed || !strings.Contains(stderr, "spooled") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if first.Counts["ok"] != 2 {
		t.Fatalf("round itself should succeed: %v", first.Counts)
	}

	// The database is back: the next run stores both rounds.
	must(t, os.Remove(filepath.Join(dir, "db")))
	must(t, os.Mkdir(filepath.Join(dir, "db"), 0o700))
	code, second, stderr := runCLI(t, r.args())
	if code != ExitOK || !strings.Contains(stderr, "stored 1 round(s) spooled") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	db := openDB(t, "sqlite3", r.db)
	for _, round := range []string{first.RoundID, second.RoundID} {
		if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE round_id = ? AND status = 'ok'`, round); n != 2 {
			t.Errorf("round %s: %d ok collections stored, want 2", round, n)
		}
	}
	// A third run has nothing left to replay.
	if code, _, stderr := runMain(context.Background(), "test", r.args()...); code != ExitOK || strings.Contains(stderr, "spooled by earlier") {
		t.Fatalf("third run: exit %d, stderr:\n%s", code, stderr)
	}
}
