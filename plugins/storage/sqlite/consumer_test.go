package sqlite

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// sqliteDialect is the SQLite form of docs/schema.md's example queries.
func sqliteDialect() storagetest.Dialect {
	return storagetest.Dialect{
		Ago: func(span string) string {
			return fmt.Sprintf(`strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-%s')`, span)
		},
		SentTo: func(address string) string {
			return fmt.Sprintf("FROM notifications n, json_each(n.recipients) r\n WHERE r.value = '%s'", address)
		},
		Field: func(column, key string) string { return fmt.Sprintf("json_extract(%s, '$.%s')", column, key) },
		Plan: func(t *testing.T, db *sql.DB, query string) string {
			return storagetest.Dump(t, db, "EXPLAIN QUERY PLAN "+query)
		},
	}
}

// TestConsumerQueries runs the example queries of docs/schema.md against a
// real database: they are the contract's usage examples, so they must work
// and use the indexes meant for them.
func TestConsumerQueries(t *testing.T) {
	s := migratedStore(t)
	storagetest.ConsumerQueries(t, sqliteDialect(), s.db, s.WriteBatch)
}
