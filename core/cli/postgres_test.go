package cli

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/sshfleet"
	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// TestRoundIntoPostgres: `--db env:NAME` holding a postgres:// DSN sends
// the round to PostgreSQL (through the built-in postgres storage plugin),
// and the DSN's password never shows in the output.
func TestRoundIntoPostgres(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 2, User: "demo", Password: "pw", TempRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	dir := t.TempDir()
	r := roundEnv{dir: dir, config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: "env:CSCS_TEST_ROUND_DSN", agentDir: testagent.Dir(t)}
	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, h := range fleet.Hosts() {
		fmt.Fprintf(&cfg, "<client ip=%q port=\"%d\" username=\"demo\" password=\"pw\" mail=\"ops@example.com\"/>\n", h.IP, h.Port)
	}
	cfg.WriteString("</clients>\n")
	must(t, os.WriteFile(r.config, []byte(cfg.String()), 0o600))
	must(t, os.MkdirAll(r.dataDir, 0o700))
	must(t, os.WriteFile(filepath.Join(r.dataDir, "known_hosts"), fleet.KnownHosts(), 0o600))
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
	db, err := sql.Open("pgx", dsn)
	must(t, err)
	defer db.Close()
	var n int
	must(t, db.QueryRow(`SELECT count(*) FROM collections WHERE status = 'ok'`).Scan(&n))
	if n != 4 {
		t.Errorf("%d ok collections in PostgreSQL, want 4", n)
	}
	must(t, db.QueryRow(`SELECT count(*) FROM latest_stats WHERE cpu_percent BETWEEN 0 AND 100 AND memory_percent > 0`).Scan(&n))
	if n != 2 {
		t.Errorf("latest_stats has %d sane rows, want 2", n)
	}
}
