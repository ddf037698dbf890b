// Package postgres is the built-in PostgreSQL storage backend of CSCS. It
// writes each round's results into a PostgreSQL database whose schema is a
// documented contract (docs/schema.md), the same tables, columns and view
// as the SQLite backend in PostgreSQL's native types. Several cores may
// share one database: migrations take an advisory lock and writers never
// deadlock each other.
//
// The package imports only the standard library, pgx and the CSCS SDK, so
// it can be served out of process like any third-party plugin.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// connectTimeout bounds the first connection New makes when the DSN sets
// no connect_timeout of its own.
const connectTimeout = 15 * time.Second

// Store is a PostgreSQL database that receives CSCS rounds. It is safe for
// use by several goroutines; several Stores (or processes, or cores) may
// share one database.
type Store struct {
	pool       *pgxpool.Pool
	name       string
	migrations []migration
	// pruneChunk is how many collections (or events) one prune
	// transaction deletes at most; zero means retained.DefaultChunk.
	pruneChunk int

	closeOnce sync.Once
}

// New connects to the database named by dsn, a postgres:// URL or a
// key=value connection string as libpq and pgx accept them (pool settings
// such as pool_max_conns included). It does not create or change the
// schema: call Migrate for that. The DSN may hold a password: no error or
// message repeats it.
func New(ctx context.Context, dsn string) (*Store, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("open postgres database: dsn is empty")
	}
	migrations, err := loadMigrations(migrationFiles, migrationDir)
	if err != nil {
		return nil, fmt.Errorf("load embedded migrations: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors repeat the DSN with a best-effort redaction:
		// say what is wrong without quoting it.
		return nil, errors.New("open postgres database: the dsn cannot be parsed; " +
			"write it as postgres://user@host:5432/database?sslmode=disable or as key=value pairs " +
			"(it is not shown here because it may contain a password)")
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "cscs"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	name := databaseName(cfg)
	secret := cfg.ConnConfig.Password

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres database %s: %w", name, redact(err, secret))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres database %s (check that the server runs, accepts this user and that the database exists): %w",
			name, redact(err, secret))
	}
	return &Store{pool: pool, name: name, migrations: migrations}, nil
}

// Database names the database for messages, without user or password:
// "postgres://host:port/database".
func (s *Store) Database() string { return s.name }

// Close releases the database connections. It is safe to call more than
// once.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// DisplayName names the database dsn points at for messages and file
// names, without connecting: "postgres://host:port/database", never user
// or password. A DSN that cannot be parsed is named "postgres (invalid dsn)".
func DisplayName(dsn string) string {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return "postgres (invalid dsn)"
	}
	return databaseName(cfg)
}

// databaseName is the DSN's server and database, never its credentials.
func databaseName(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return "postgres://" + net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))) + "/" + c.Database
}

// redactedError is an error whose text has a secret masked. Unwrap keeps
// errors.Is and errors.As working on the original.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redact masks secret wherever it appears in err's text: a last line of
// defence, since pgx and the server do not normally quote a password.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{text: strings.ReplaceAll(err.Error(), secret, "xxxxx"), err: err}
}
