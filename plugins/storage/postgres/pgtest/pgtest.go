// Package pgtest gives tests a private schema in a real PostgreSQL
// database. The server is found through $CSCS_TEST_POSTGRES_DSN, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it cannot
// be reached the test is skipped with the reason, except under CI=true,
// where it fails: CI must test PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable that points the tests at a PostgreSQL server.
const EnvDSN = "CSCS_TEST_POSTGRES_DSN"

// DefaultDSN is the server tests use when EnvDSN is unset: a local
// PostgreSQL with trust authentication and a database named test.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"

// ServerDSN returns the DSN of the test server, from EnvDSN or DefaultDSN.
func ServerDSN() string {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// SchemaDSN creates an empty schema t_<random> on the test server, drops
// it (with everything in it) when the test ends, and returns a DSN whose
// connections use that schema as their search_path. It skips the test
// when the server cannot be reached, or fails it under CI=true.
func SchemaDSN(t testing.TB) string {
	t.Helper()
	server := ServerDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		unavailable(t, err)
	}
	defer conn.Close(context.Background())

	schema := "t_" + randomHex(t)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema %s: %v", schema, err)
	}
	t.Cleanup(func() { dropSchema(t, server, schema) })
	return WithSearchPath(t, server, schema)
}

// WithSearchPath returns dsn with its connections' search_path set to
// schema (through the options parameter, as libpq also understands it).
func WithSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvDSN)
	}
	q := u.Query()
	q.Set("options", "-c search_path="+schema)
	// Spaces as %20, not +: libpq decodes only percent escapes.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

func dropSchema(t testing.TB, server, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Errorf("drop test schema %s: %v", schema, err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Errorf("drop test schema %s: %v", schema, err)
	}
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := "PostgreSQL test server unreachable (" + err.Error() + "); start one on 127.0.0.1:5432 " +
		"(user postgres, trust authentication, database test) or set " + EnvDSN
	if strings.EqualFold(os.Getenv("CI"), "true") {
		t.Fatal(msg + "; CI=true, so this is a failure")
	}
	t.Skip(msg)
}

func randomHex(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
