package sqlmigrate

import (
	"context"
	"database/sql"
)

// SQLite is the dialect of a SQLite database opened with database/sql.
// Open it with immediate transactions (go-sqlite3's _txlock=immediate) so
// that a migration takes the write lock when it begins.
func SQLite(db *sql.DB) Dialect {
	return Dialect{
		Begin: func(ctx context.Context) (Tx, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			return SQLTx{tx}, nil
		},
		HasTable: `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`,
		CreateTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)`,
		Record: `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
	}
}

// SQLQuerier adapts a *sql.DB or *sql.Tx to Querier.
type SQLQuerier struct {
	Q interface {
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

// QueryInt runs query and scans its one integer.
func (q SQLQuerier) QueryInt(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := q.Q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// SQLTx adapts a *sql.Tx to Tx.
type SQLTx struct{ Tx *sql.Tx }

// QueryInt runs query and scans its one integer.
func (t SQLTx) QueryInt(ctx context.Context, query string, args ...any) (int, error) {
	return SQLQuerier{t.Tx}.QueryInt(ctx, query, args...)
}

// Exec runs a statement.
func (t SQLTx) Exec(ctx context.Context, query string, args ...any) error {
	_, err := t.Tx.ExecContext(ctx, query, args...)
	return err
}

// Commit commits the transaction.
func (t SQLTx) Commit(context.Context) error { return t.Tx.Commit() }

// Rollback rolls it back; after a commit it does nothing.
func (t SQLTx) Rollback(context.Context) error { return t.Tx.Rollback() }
