package cli

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
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
	// Still down: the run says the first round waits too.
	code, _, stderr = runCLI(t, r.args())
	if code != ExitSomeFailed || !strings.Contains(stderr, "1 earlier round(s) wait in the spool of sqlite") || !strings.Contains(stderr, "the oldest from") {
		t.Fatalf("second run while down: exit %d, stderr:\n%s", code, stderr)
	}

	// The database is back: the next run stores both rounds.
	must(t, os.Remove(filepath.Join(dir, "db")))
	must(t, os.Mkdir(filepath.Join(dir, "db"), 0o700))
	code, second, stderr := runCLI(t, r.args())
	if code != ExitOK || !strings.Contains(stderr, "stored 2 round(s) spooled") {
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

// TestSpoolForAnOldStorage: a round spooled for a PostgreSQL DSN with a
// wrong port is not forgotten once the DSN is corrected: every run says
// it waits (how many, since when, for which storage); `cscs spool list`
// shows it, `cscs spool replay` stores it in the corrected database, and
// `cscs spool drop` deletes a spool.
func TestSpoolForAnOldStorage(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	u, err := url.Parse(dsn)
	must(t, err)
	wrong := *u
	wrong.Host = "127.0.0.1:1" // nothing listens there
	r, _ := fleetRound(t, wrong.String())
	code, first, stderr := runCLI(t, r.args())
	if code != ExitSomeFailed || !strings.Contains(stderr, "spooled") {
		t.Fatalf("wrong port: exit %d\n%s", code, stderr)
	}

	r.db = dsn
	code, _, stderr = runCLI(t, r.args())
	if code != ExitOK {
		t.Fatalf("corrected DSN: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"1 round(s) spooled for postgres postgres://127.0.0.1:1/test wait in", "the oldest from", "no run stores them", "cscs spool replay postgres-"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the run does not say the old round waits (%q):\n%s", want, stderr)
		}
	}

	code, list, stderr := runMain(context.Background(), "test", "spool", "list", "--data-dir", r.dataDir)
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if code != ExitOK || len(lines) != 2 || !strings.Contains(lines[1], "127.0.0.1:1") || !strings.Contains(lines[1], " 1 ") {
		t.Fatalf("spool list: exit %d, want one spool with one round for the wrong port:\n%s%s", code, list, stderr)
	}
	name := strings.Fields(lines[1])[0]

	code, out, stderr := runMain(context.Background(), "test", "spool", "replay", "--data-dir", r.dataDir, "--db", dsn, name)
	if code != ExitOK || !strings.Contains(out, "stored 1 round(s)") {
		t.Fatalf("spool replay: exit %d\n%s%s", code, out, stderr)
	}
	db := openDB(t, "pgx", dsn)
	if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE round_id = $1 AND status = 'ok'`, first.RoundID); n != 2 {
		t.Errorf("the replayed round has %d ok collections in PostgreSQL, want 2", n)
	}
	if code, _, stderr := runCLI(t, r.args()); code != ExitOK || strings.Contains(stderr, "spool") {
		t.Errorf("after the replay: exit %d, and nothing should wait:\n%s", code, stderr)
	}

	// Another spooled round, dropped.
	r.db = wrong.String()
	if code, _, _ := runCLI(t, r.args()); code != ExitSomeFailed {
		t.Fatalf("wrong port again: exit %d", code)
	}
	code, out, stderr = runMain(context.Background(), "test", "spool", "drop", "--data-dir", r.dataDir, name)
	if code != ExitOK || !strings.Contains(out, "deleted 1 round(s) spooled for postgres postgres://127.0.0.1:1/test") {
		t.Fatalf("spool drop: exit %d\n%s%s", code, out, stderr)
	}
	if spools, _ := filepath.Glob(filepath.Join(r.dataDir, "spool", "*", "*.age")); len(spools) != 0 {
		t.Errorf("rounds left after drop: %v", spools)
	}
	for _, args := range [][]string{
		{"spool", "drop", "--data-dir", r.dataDir, "nosuch"},
		{"spool", "replay", "--data-dir", r.dataDir, "--to", "archive", "nosuch"},
	} {
		if code, _, stderr := runMain(context.Background(), "test", args...); code != ExitBadConfig || !strings.Contains(stderr, `no spool "nosuch"`) {
			t.Errorf("%v: exit %d, want %d naming the spool:\n%s", args, code, ExitBadConfig, stderr)
		}
	}
}
