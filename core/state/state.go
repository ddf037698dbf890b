// Package state is the core's own state database: what the core must
// read back between rounds — alert state, each metric's recent values,
// event-log cursors, host platforms and counters, and the mail outbox.
// Storage plugins are sinks and never answer such reads, so this database
// is separate from theirs; its schema is private to the core and created
// by versioned migrations embedded in the binary.
//
// It runs on one of two engines, chosen by the target given to Open: a
// file path is SQLite (by default <data-dir>/state.db), a postgres:// or
// postgresql:// DSN is PostgreSQL, where several cores may share one
// schema (give the state its own schema, through the DSN's search_path:
// the storage plugin keeps its own schema_migrations table). Both engines
// have the same tables, the same migration numbers (migrations/sqlite and
// migrations/postgres) and the same semantics, checked by the same tests:
//
//   - Times are stored as fixed-width UTC text
//     (2006-01-02T15:04:05.000000000Z) on both engines, so they sort and
//     compare as text; on PostgreSQL every text column is COLLATE "C", so
//     ordering and equality are byte-wise as in SQLite's BINARY collation.
//   - Queries are written once with ? placeholders; on PostgreSQL they are
//     rewritten to $1..$n (rebind, which skips quoted text and comments).
//   - Migrations run one transaction each, under SQLite's write lock or a
//     PostgreSQL advisory lock, so cores opening the database at once
//     apply each one once; a schema newer than the binary is refused.
//   - An outbox notification is claimed by an UPDATE conditioned on its
//     status and due time (and finished or released by one conditioned on
//     its claim token): SQLite runs writers one at a time, and
//     PostgreSQL, under READ COMMITTED, re-checks the condition on the row
//     a concurrent claimer just changed, so only one claimer gets a row.
//
// A DB lives for one round: host platforms, event-log cursors and counters
// are read for the round's hosts when it calls PrefetchHosts, else whole
// at the first lookup, and kept (see snapshot), and the alert states of
// the round's hosts when it calls PrefetchAlerts, so another core's
// writes after that are not seen until the next round opens it.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

// FileName is the state database's name in the data dir.
const FileName = "state.db"

// Defaults for Options.
const (
	DefaultBusyTimeout = 10 * time.Second
	DefaultKeepValues  = 10
)

// maxPostgresConns bounds a DB's connections to PostgreSQL, so that a
// round of hundreds of hosts does not take a server's connections.
const maxPostgresConns = 8

// Options tune Open.
type Options struct {
	// BusyTimeout is how long a writer waits for another writer's lock
	// (DefaultBusyTimeout when zero); on PostgreSQL, the lock_timeout.
	BusyTimeout time.Duration
	// KeepValues is how many recent values readers get per host and
	// metric (DefaultKeepValues when zero); the table holds up to
	// trimSlack more between trims.
	KeepValues int
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.KeepValues <= 0 {
		o.KeepValues = DefaultKeepValues
	}
	return o
}

// HostKey names a host of a round: its address and SSH port, as the
// configuration gives them.
type HostKey struct {
	IP   string
	Port int
}

// DB is the state database. It is safe for use by several goroutines, and
// several processes may open the same file or PostgreSQL schema.
type DB struct {
	db     *conn
	target string // the file path or the DSN
	label  string // the path, or the DSN without its password, for messages
	pg     bool   // PostgreSQL, else SQLite
	keep   int

	// platforms, cursors and counters answer the per-host lookups of a
	// round: for the hosts given to PrefetchHosts, else from the whole
	// table.
	platforms snapshot[HostKey, storedPlatform]
	cursors   snapshot[cursorKey, string]
	counters  snapshot[HostKey, string]
	// alerts answer Get for the hosts given to PrefetchAlerts.
	alerts prefetched[string, alertRow]

	closeOnce sync.Once
	closeErr  error
}

// Path is the state database's path in dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// IsPostgres reports whether target names a PostgreSQL database (a
// postgres:// or postgresql:// DSN) rather than a SQLite file.
func IsPostgres(target string) bool {
	lower := strings.ToLower(target)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// Open opens the state database at target and migrates its schema to the
// newest version this binary knows. A file path is a SQLite database,
// created (mode 0600: it holds mail recipients and bodies) with its
// directory (0700) when missing; a postgres:// DSN is a PostgreSQL
// database, whose schema (the DSN's search_path) must exist. A database
// written by a newer cscs is refused with a *SchemaTooNewError.
func Open(ctx context.Context, target string, opts Options) (*DB, error) {
	if target == "" {
		return nil, errors.New("open state database: no path given")
	}
	opts = opts.withDefaults()
	if IsPostgres(target) {
		return openPostgres(ctx, target, opts, false)
	}
	path := target
	migrations, err := loadMigrations(false)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn(path, opts.BusyTimeout))
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state database %s (check that its directory is writable): %w", path, err)
	}
	if err := migrate(ctx, db, false, migrations); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state database %s: %w", path, err)
	}
	return &DB{db: newConn(db, false), target: path, label: path, keep: opts.KeepValues}, nil
}

// ErrNoState is returned by OpenReadOnly for a data directory without a
// state database: no round has run there yet.
var ErrNoState = errors.New("no state database yet: no round has run with this data directory")

// OpenReadOnly opens the state database at target for reading only, for
// status pages and scrapes while rounds run: it creates nothing, migrates
// nothing and takes no write lock, so a round's writes never wait for it
// (on PostgreSQL its sessions are read-only). A missing file, or a
// PostgreSQL schema never migrated, is ErrNoState; a schema older or
// newer than this binary knows is an error (the next round migrates an
// older one).
func OpenReadOnly(ctx context.Context, target string, opts Options) (*DB, error) {
	if target == "" {
		return nil, errors.New("open state database: no path given")
	}
	opts = opts.withDefaults()
	if IsPostgres(target) {
		return openPostgres(ctx, target, opts, true)
	}
	path := target
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoState
	}
	db, err := sql.Open("sqlite3", uri(path, "mode=ro", busyParam(opts.BusyTimeout)))
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	d := &DB{db: newConn(db, false), target: path, label: path, keep: opts.KeepValues}
	if err := d.checkVersion(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return d, nil
}

// checkVersion refuses, for OpenReadOnly, a schema other than the newest
// this binary knows; ErrNoState for a PostgreSQL schema never migrated.
func (d *DB) checkVersion(ctx context.Context) error {
	migrations, err := loadMigrations(d.pg)
	if err != nil {
		return err
	}
	v, err := recordedVersion(ctx, d.db.raw, d.pg)
	if err == nil && v == 0 && d.pg {
		return ErrNoState
	}
	if known := migrations[len(migrations)-1].Version; err == nil && v != known {
		err = fmt.Errorf("schema version %d, this cscs reads %d; the next round migrates it (or upgrade cscs)", v, known)
	}
	if err != nil {
		return fmt.Errorf("state database %s: %w", d.label, err)
	}
	return nil
}

// openPostgres opens the PostgreSQL state database of dsn, migrating it,
// or read-only (every transaction of its sessions read-only) and checking
// its version.
func openPostgres(ctx context.Context, dsn string, opts Options, readOnly bool) (*DB, error) {
	label := redact(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", label, err)
	}
	cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxPostgresConns)
	db.SetMaxIdleConns(maxPostgresConns)
	d := &DB{db: newConn(db, true), target: dsn, label: label, pg: true, keep: opts.KeepValues}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state database %s: %w", label, err)
	}
	if readOnly {
		err = d.checkVersion(ctx)
	} else {
		var migrations []sqlmigrate.Migration
		if migrations, err = loadMigrations(true); err == nil {
			if err = migrate(ctx, db, true, migrations); err != nil {
				err = fmt.Errorf("state database %s: %w", label, err)
			}
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return d, nil
}

// redact is dsn without its password, for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a PostgreSQL DSN that does not parse)"
	}
	return u.Redacted()
}

// createPrivate makes path's directory (0700) and an empty file at path
// (0600) when they do not exist yet; SQLite gives its -wal and -shm files
// the database file's mode.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the state database's directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open state database %s: %w", path, err)
	}
	return f.Close()
}

// dsn is a go-sqlite3 URI for path: busy timeout, WAL journal,
// synchronous=NORMAL (durable across a process crash; a power loss may
// lose the last transactions, never corrupt), and transactions that take
// the write lock at BEGIN, so concurrent writers wait instead of failing.
func dsn(path string, busy time.Duration) string {
	return uri(path, busyParam(busy), "_journal_mode=WAL", "_synchronous=NORMAL", "_txlock=immediate")
}

// uri is a go-sqlite3 file URI for path with params.
func uri(path string, params ...string) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + escaped + "?" + strings.Join(params, "&")
}

// busyParam is the busy timeout parameter: how long a statement waits for
// another connection's lock.
func busyParam(busy time.Duration) string {
	return "_busy_timeout=" + strconv.FormatInt(busy.Milliseconds(), 10)
}

// File returns the database's path, or its DSN on PostgreSQL.
func (d *DB) File() string { return d.target }

// Postgres reports whether the database is PostgreSQL, else SQLite.
func (d *DB) Postgres() bool { return d.pg }

// SchemaVersion returns the highest migration recorded in the database.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	return recordedVersion(ctx, d.db.raw, d.pg)
}

// Close releases the database; safe to call more than once.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		if err := d.db.Close(); err != nil {
			d.closeErr = fmt.Errorf("close state database %s: %w", d.label, err)
		}
	})
	return d.closeErr
}

// inTx runs fn in a transaction (which holds the write lock from its
// start on SQLite; on PostgreSQL, READ COMMITTED with row locks) and
// commits it when fn succeeds.
func (d *DB) inTx(ctx context.Context, fn func(*txn) error) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// queryer runs a query: the database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// eachRow runs query and hands every row to scan, then closes the rows.
// It returns the first error of the query, of scan or of reading the
// rows as it is: the caller says what failed.
func eachRow(ctx context.Context, q queryer, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryStrings returns the single text column of every row of query.
func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	var out []string
	err := eachRow(ctx, q, func(rows *sql.Rows) error {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	}, query, args...)
	return out, err
}

// timeLayout is fixed-width UTC, so stored times compare as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime is NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

// parseTime reads a stored time; NULL is the zero time.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s.String, err)
	}
	return t, nil
}
