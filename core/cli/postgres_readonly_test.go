package cli

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// TestRoundSpoolsWhenPostgresTurnsReadOnly: the collector's role loses
// its write privileges while a round runs; the round is spooled, and once
// the privileges are back the next run stores it exactly once.
func TestRoundSpoolsWhenPostgresTurnsReadOnly(t *testing.T) {
	ctx := context.Background()
	adminDSN := pgtest.SchemaDSN(t)
	admin, err := pgx.Connect(ctx, adminDSN)
	must(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })
	var schema string
	must(t, admin.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	role := "cscs_" + schema
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + role,
	} {
		_, err := admin.Exec(ctx, q)
		must(t, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP OWNED BY "+role)
		_, _ = admin.Exec(context.Background(), "DROP ROLE "+role)
	})
	u, err := url.Parse(adminDSN)
	must(t, err)
	u.User = url.User(role)
	dsn := u.String()

	r, _ := fleetRound(t, dsn)

	// Round 1 creates the schema as the role (it owns the tables).
	if code, _, stderr := runCLI(t, r.args()); code != ExitOK {
		t.Fatalf("round 1: exit %d\n%s", code, stderr)
	}
	// Round 2: the tables turn read-only for the role while the round runs.
	// Ownership is moved to the admin first, so revoking bites.
	for _, q := range []string{
		"REASSIGN OWNED BY " + role + " TO CURRENT_USER",
		"GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + role,
	} {
		_, err := admin.Exec(ctx, q)
		must(t, err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = admin.Exec(context.Background(), "REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" FROM "+role)
	}()
	code, second, stderr := runCLI(t, r.args())
	if code != ExitSomeFailed || !strings.Contains(stderr, "spooled") {
		t.Fatalf("round 2: exit %d, want 1 and the round spooled\n%s", code, stderr)
	}
	if strings.Contains(stderr, role+"@") {
		t.Errorf("the DSN's user info leaked into messages:\n%s", stderr)
	}
	// Round 3: writable again; round 2 is replayed first, then round 3.
	_, err = admin.Exec(ctx, "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "+schema+" TO "+role)
	must(t, err)
	code, _, stderr = runCLI(t, r.args())
	if code != ExitOK || !strings.Contains(stderr, "stored 1 round(s) spooled") {
		t.Fatalf("round 3: exit %d\n%s", code, stderr)
	}
	db, err := sql.Open("pgx", adminDSN)
	must(t, err)
	defer db.Close()
	var n, inRound2 int
	must(t, db.QueryRow(`SELECT count(*) FROM collections`).Scan(&n))
	must(t, db.QueryRow(`SELECT count(*) FROM collections WHERE round_id = $1`, second.RoundID).Scan(&inRound2))
	if n != 6 || inRound2 != 2 {
		t.Errorf("%d collections (%d of round 2), want 6 (2) — nothing lost, nothing twice", n, inRound2)
	}
}
