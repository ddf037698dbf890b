package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// openStore opens a Store on a fresh file in t.TempDir and closes it when
// the test ends. It does not migrate.
func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := New(path)
	if err != nil {
		t.Fatalf("New(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// migratedStore is openStore plus Migrate.
func migratedStore(t testing.TB) *Store {
	t.Helper()
	s := openStore(t, filepath.Join(t.TempDir(), "cscs.db"))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// loadBatch reads a storage.Batch fixture from testdata.
func loadBatch(t testing.TB, name string) *storage.Batch {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var b storage.Batch
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return &b
}

func countRows(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// rowCounts is the number of rows in every data table.
func rowCounts(t testing.TB, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"hosts", "collections", "samples"} {
		out[table] = countRows(t, db, table)
	}
	return out
}

// dumpTable renders every row of a query as text, for whole-table
// comparisons.
func dumpTable(t testing.TB, db *sql.DB, query string) string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(&sb, "%s=%v ", cols[i], v)
		}
		sb.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// okCollection is a successful collection of ip:22 at the given time with
// the given metric values.
func okCollection(ip string, at time.Time, metrics map[string]float64) storage.Collection {
	c := storage.Collection{
		HostIP: ip, HostPort: 22, Hostname: "host-" + ip, OS: "linux", Arch: "amd64",
		AgentVersion: "0.1.0", Status: storage.StatusOK,
		StartedAt: at, FinishedAt: at.Add(time.Second),
		Timings: storage.Timings{Connect: 10 * time.Millisecond, Exec: 500 * time.Millisecond, Total: time.Second},
	}
	for name, v := range metrics {
		c.Samples = append(c.Samples, storage.Sample{Metric: name, Value: v, Unit: "percent", Time: at.Add(time.Second)})
	}
	return c
}
