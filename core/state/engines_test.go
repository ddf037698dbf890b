package state

import (
	"path/filepath"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// engine is one of the state database's engines, for the contract tests:
// every test runs on each (see forEachEngine).
type engine struct {
	name string
	pg   bool
	// target returns the target of a new, empty state database.
	target func(t testing.TB) string
}

// engines are SQLite (a file in a temporary directory) and PostgreSQL (a
// private schema on the test server; skipped when it cannot be reached,
// except under CI=true, see pgtest).
var engines = []engine{
	{name: "sqlite", target: func(t testing.TB) string { return Path(filepath.Join(t.TempDir(), "data")) }},
	{name: "postgres", pg: true, target: func(t testing.TB) string { return pgtest.SchemaDSN(t) }},
}

// forEachEngine runs test as a subtest on each engine.
func forEachEngine(t *testing.T, test func(t *testing.T, e engine)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { test(t, e) })
	}
}

// forEachEngineB is forEachEngine for benchmarks.
func forEachEngineB(b *testing.B, bench func(b *testing.B, e engine)) {
	b.Helper()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) { bench(b, e) })
	}
}

// open opens target on the engine and closes it when the test ends.
func (e engine) open(t testing.TB, target string, opts Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), target, opts)
	if err != nil {
		t.Fatalf("Open (%s): %v", e.name, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openTest opens a new, empty state database on engine e.
func openTest(t testing.TB, e engine, opts Options) *DB {
	t.Helper()
	return e.open(t, e.target(t), opts)
}
