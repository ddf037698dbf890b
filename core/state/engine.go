package state

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// The queries of this package are written once, with ? placeholders, in
// SQL that both engines accept. conn and txn run them on a *sql.DB and a
// *sql.Tx: as written on SQLite, rebound to $1..$n on PostgreSQL.

// execer runs a statement: a DB's connection pool, or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// conn is the database handle of a DB.
type conn struct {
	raw *sql.DB
	pg  bool
	// rebound caches the PostgreSQL form of each query.
	rebound sync.Map
}

func newConn(db *sql.DB, pg bool) *conn { return &conn{raw: db, pg: pg} }

// q is query for the engine.
func (c *conn) q(query string) string {
	if !c.pg {
		return query
	}
	if r, ok := c.rebound.Load(query); ok {
		return r.(string)
	}
	r := rebind(query)
	c.rebound.Store(query, r)
	return r
}

func (c *conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.raw.ExecContext(ctx, c.q(query), args...)
}

func (c *conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.raw.QueryContext(ctx, c.q(query), args...)
}

func (c *conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.raw.QueryRowContext(ctx, c.q(query), args...)
}

// Exec and QueryRow are for tests.
func (c *conn) Exec(query string, args ...any) (sql.Result, error) {
	return c.ExecContext(context.Background(), query, args...)
}

func (c *conn) QueryRow(query string, args ...any) *sql.Row {
	return c.QueryRowContext(context.Background(), query, args...)
}

func (c *conn) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := c.raw.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txn{tx: tx, c: c}, nil
}

func (c *conn) Close() error { return c.raw.Close() }

// txn is a transaction on a conn.
type txn struct {
	tx *sql.Tx
	c  *conn
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.c.q(query), args...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.c.q(query), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.c.q(query), args...)
}

func (t *txn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.c.q(query))
}

func (t *txn) Commit() error   { return t.tx.Commit() }
func (t *txn) Rollback() error { return t.tx.Rollback() }

// rebind numbers the ? placeholders of query $1, $2, ... as PostgreSQL
// wants them, leaving alone those in quoted text ('...', "...") and in
// comments (-- to the end of the line, /* ... */).
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+1])
			i += end
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+4])
			i += end + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
