package cli

import (
	"bytes"
	"context"
	"database/sql"
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
	db, err := sql.Open("sqlite3", r.db)
	must(t, err)
	defer db.Close()
	for _, round := range []string{first.RoundID, second.RoundID} {
		var n int
		must(t, db.QueryRow(`SELECT count(*) FROM collections WHERE round_id = ? AND status = 'ok'`, round).Scan(&n))
		if n != 2 {
			t.Errorf("round %s: %d ok collections stored, want 2", round, n)
		}
	}
	// A third run has nothing left to replay.
	var stdout, errb bytes.Buffer
	if code := Main(context.Background(), r.args(), "test", strings.NewReader(""), &stdout, &errb); code != ExitOK || strings.Contains(errb.String(), "spooled by earlier") {
		t.Fatalf("third run: exit %d, stderr:\n%s", code, errb.String())
	}
}
