package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// pruneFixture writes three rounds into s: ten days ago (two ok hosts),
// five days ago (one ok, one failed) and an hour ago (one ok, one
// failed). Pruning older than two days deletes three collections: host
// .2 keeps its ten-day-old collection, its latest ok one.
func pruneFixture(t *testing.T, s storage.Storage) {
	t.Helper()
	now := time.Now().UTC()
	ok := func(ip string, at time.Time) storage.Collection {
		return storage.Collection{HostIP: ip, HostPort: 22, Status: storage.StatusOK, StartedAt: at,
			Samples: []storage.Sample{{Metric: "cpu.percent", Value: 5, Unit: "percent", Time: at}}}
	}
	failed := func(ip string, at time.Time) storage.Collection {
		return storage.Collection{HostIP: ip, HostPort: 22, Status: storage.StatusTimeout, StartedAt: at}
	}
	for _, r := range []struct {
		id  string
		age time.Duration
	}{{"old", 240 * time.Hour}, {"mid", 120 * time.Hour}, {"new", time.Hour}} {
		at := now.Add(-r.age)
		b := &storage.Batch{RoundID: r.id, StartedAt: at, Collections: []storage.Collection{ok("10.0.0.1", at), ok("10.0.0.2", at)}}
		if r.id != "old" {
			b.Collections[1] = failed("10.0.0.2", at)
		}
		if err := s.WriteBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func sqliteFixture(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "cscs.db")
	p := &sqlite.Plugin{}
	cfg, _ := json.Marshal(sqlite.Config{Path: path})
	if err := p.Open(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	pruneFixture(t, p)
	return path
}

func collectionsLeft(t *testing.T, driver, dsn string) string {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT h.ip, c.round_id FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip, c.round_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ip, round string
		if err := rows.Scan(&ip, &round); err != nil {
			t.Fatal(err)
		}
		out = append(out, ip+" "+round)
	}
	return strings.Join(out, ", ")
}

const wantLeft = "10.0.0.1 new, 10.0.0.2 new, 10.0.0.2 old"

func runPrune(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Args: args, Stdout: &out, Stderr: &errOut, Getenv: getenv}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	code = dbPruneCommand(context.Background(), env)
	return code, out.String(), errOut.String()
}

func TestDBPruneSQLite(t *testing.T) {
	tests := map[string]struct {
		olderThan string
		wantOut   string
		wantLeft  string
	}{
		"days":        {"2d", "deleted 3 collections", wantLeft},
		"go duration": {"48h", "deleted 3 collections", wantLeft},
		"nothing old": {"30d", "deleted 0 collections", "10.0.0.1 mid, 10.0.0.1 new, 10.0.0.1 old, 10.0.0.2 mid, 10.0.0.2 new, 10.0.0.2 old"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := sqliteFixture(t)
			code, stdout, stderr := runPrune(t, nil, "--db", path, "--older-than", tc.olderThan)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.HasPrefix(stdout, path+": "+tc.wantOut+" (and their samples) and 0 events from before ") {
				t.Errorf("stdout %q; want %q", stdout, path+": "+tc.wantOut)
			}
			if got := collectionsLeft(t, "sqlite3", path); got != tc.wantLeft {
				t.Errorf("left: %s; want %s", got, tc.wantLeft)
			}
		})
	}
}

func TestDBPruneThroughMain(t *testing.T) {
	path := sqliteFixture(t)
	code, stdout, stderr := runMain(context.Background(), "test", "db", "prune", "--db", path, "--older-than", "2d")
	if code != ExitOK || !strings.Contains(stdout, "deleted 3 collections") {
		t.Fatalf("cscs db prune: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestDBPruneErrors(t *testing.T) {
	dir := t.TempDir()
	unmigrated := filepath.Join(dir, "empty.db")
	s, err := sqlite.New(unmigrated)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	const secret = "n0t-in-any-output"
	tests := map[string]struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		"no age":            {[]string{"--db", unmigrated}, ExitBadConfig, "--older-than is required"},
		"bad age":           {[]string{"--db", unmigrated, "--older-than", "3 months"}, ExitBadConfig, `--older-than: age "3 months"`},
		"zero age":          {[]string{"--db", unmigrated, "--older-than", "0d"}, ExitBadConfig, "--older-than"},
		"missing file":      {[]string{"--db", filepath.Join(dir, "nope.db"), "--older-than", "1d"}, ExitSomeFailed, "no database at"},
		"not initialised":   {[]string{"--db", unmigrated, "--older-than", "1d"}, ExitSomeFailed, "run `cscs db init`"},
		"unset env":         {[]string{"--db", "env:CSCS_TEST_NO_SUCH_VAR", "--older-than", "1d"}, ExitBadConfig, "CSCS_TEST_NO_SUCH_VAR is not set"},
		"extra argument":    {[]string{"--older-than", "1d", "extra"}, ExitBadConfig, `unexpected argument "extra"`},
		"postgres refused":  {[]string{"--db", "postgres://cscs:" + secret + "@127.0.0.1:1/cscs?connect_timeout=2", "--older-than", "1d"}, ExitSomeFailed, "postgres://127.0.0.1:1/cscs"},
		"postgresql scheme": {[]string{"--db", "postgresql://cscs:" + secret + "@127.0.0.1:1/cscs?connect_timeout=2", "--older-than", "1d"}, ExitSomeFailed, "open postgres database"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runPrune(t, nil, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.wantCode, tc.wantErr)
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("output repeats the password: %q %q", stdout, stderr)
			}
		})
	}
}

func TestDBPrunePostgres(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	p := &postgres.Plugin{}
	cfg, _ := json.Marshal(postgres.Config{DSN: dsn})
	if err := p.Open(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	pruneFixture(t, p)

	// The DSN through the environment, as an operator keeps it out of the
	// process list.
	getenv := func(name string) string {
		if name == "CSCS_DB" {
			return dsn
		}
		return ""
	}
	code, stdout, stderr := runPrune(t, getenv, "--db", "env:CSCS_DB", "--older-than", "2d")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "postgres://") || !strings.Contains(stdout, ": deleted 3 collections (and their samples) and 0 events from before ") {
		t.Errorf("stdout %q; want the database named and 3 collections deleted", stdout)
	}
	if strings.Contains(stdout, "search_path") || strings.Contains(stdout, "@") {
		t.Errorf("stdout %q names more of the DSN than server and database", stdout)
	}
	if got := collectionsLeft(t, "pgx", dsn); got != wantLeft {
		t.Errorf("left: %s; want %s", got, wantLeft)
	}
}

// TestDBPruneOverlayStorages prunes the database of every storage block;
// a missing one fails without stopping the others.
func TestDBPruneOverlayStorages(t *testing.T) {
	a, b := sqliteFixture(t), sqliteFixture(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	overlay := filepath.Join(t.TempDir(), "storages.hcl")
	must(t, os.WriteFile(overlay, []byte(fmt.Sprintf("storage \"sqlite\" \"a\" {\n  path = %q\n}\nstorage \"sqlite\" \"gone\" {\n  path = %q\n}\nstorage \"sqlite\" \"b\" {\n  path = %q\n}\n",
		a, missing, b)), 0o600))
	code, stdout, stderr := runPrune(t, nil, "--overlay", overlay, "--data-dir", t.TempDir(), "--older-than", "2d")
	if code != ExitSomeFailed {
		t.Fatalf("exit %d, want %d\nstdout %q\nstderr %q", code, ExitSomeFailed, stdout, stderr)
	}
	for _, want := range []string{"storage sqlite a: " + a + ": deleted 3 collections", "storage sqlite b: " + b + ": deleted 3 collections", "storage sqlite gone: failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "storage sqlite gone: no database at "+missing) {
		t.Errorf("stderr should say which storage has no database:\n%s", stderr)
	}
	for _, path := range []string{a, b} {
		if got := collectionsLeft(t, "sqlite3", path); got != wantLeft {
			t.Errorf("%s left: %s; want %s", path, got, wantLeft)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("pruning created the missing database")
	}
}
