package storagetest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// timeLayout is how the suite prints a timestamp, whatever type the
// backend returns it as: the SQLite text format.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Dump renders every row of query as "column=value " pairs, one line per
// row, with values printed the same way on every backend: timestamps in
// UTC with milliseconds (finer ones in full; SQLite returns the stored text, PostgreSQL a
// time.Time), booleans as 1 or 0, NULL as <nil>.
func Dump(t testing.TB, db *sql.DB, query string) string {
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
			fmt.Fprintf(&sb, "%s=%s ", cols[i], text(v))
		}
		sb.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return sb.String()
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case []byte:
		return string(v)
	case time.Time:
		if v.Nanosecond()%int(time.Millisecond) != 0 {
			// Finer than the contract's milliseconds: show it, so that
			// the comparison fails.
			return v.UTC().Format(time.RFC3339Nano)
		}
		return v.UTC().Format(timeLayout)
	case bool:
		if v {
			return "1"
		}
		return "0"
	default:
		return fmt.Sprint(v)
	}
}

// Count is the number of rows of table.
func Count(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// counts is the number of rows in every data table, printed.
func counts(t testing.TB, db *sql.DB) string {
	t.Helper()
	return fmt.Sprintf("hosts=%d collections=%d samples=%d alerts=%d notifications=%d events=%d",
		Count(t, db, "hosts"), Count(t, db, "collections"), Count(t, db, "samples"),
		Count(t, db, "alerts"), Count(t, db, "notifications"), Count(t, db, "events"))
}

// wholeTables are queries that print every column of every data table, in
// an order that does not depend on row ids.
var wholeTables = []string{
	`SELECT * FROM hosts ORDER BY ip, port`,
	`SELECT * FROM collections ORDER BY round_id, host_id`,
	`SELECT * FROM samples ORDER BY collection_id, metric`,
	`SELECT * FROM alerts ORDER BY host_id, rule_id`,
	`SELECT * FROM notifications ORDER BY id`,
	`SELECT * FROM events ORDER BY host_id, channel, record_id, event_time`,
}

func dumpAll(t testing.TB, db *sql.DB) []string {
	t.Helper()
	out := make([]string, len(wholeTables))
	for i, q := range wholeTables {
		out[i] = Dump(t, db, q)
	}
	return out
}
