package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// postgresDialect is the PostgreSQL form of docs/schema.md's example
// queries.
func postgresDialect() storagetest.Dialect {
	return storagetest.Dialect{
		Ago: func(span string) string { return fmt.Sprintf("now() - interval '%s'", span) },
		SentTo: func(address string) string {
			return fmt.Sprintf("FROM notifications n\n WHERE n.recipients ? '%s'", address)
		},
		Field: func(column, key string) string { return fmt.Sprintf("%s->>'%s'", column, key) },
		Plan:  planWithoutSeqScans,
		Indexes: map[string]string{
			"a host's history": "collections_host_",
			// Both lead with host_id; on tables this small the planner
			// takes either, then sorts.
			"a host's last 50 events": "events_host_time|events_pkey",
		},
	}
}

// TestConsumerQueries runs the PostgreSQL forms of the example queries of
// docs/schema.md against a real database: they must work, return what the
// SQLite forms return, and be able to use the indexes meant for them.
func TestConsumerQueries(t *testing.T) {
	s, db := migratedStore(t)
	storagetest.ConsumerQueries(t, postgresDialect(), db, s.WriteBatch)
}

// planWithoutSeqScans is EXPLAIN's plan for query when the planner avoids
// sequential scans, as it does on tables of realistic size.
func planWithoutSeqScans(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.ExecContext(ctx, `RESET enable_seqscan`) }()
	rows, err := conn.QueryContext(ctx, "EXPLAIN "+query)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
