// Package state is the core's own SQLite database in the data dir
// (<data-dir>/state.db): what the core must read back between rounds —
// alert state, each metric's recent values, event-log cursors and the
// mail outbox. Storage plugins are sinks and never answer such reads, so
// this database is separate from theirs; its schema is private to the
// core and created by versioned migrations embedded in the binary.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

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

// Options tune Open.
type Options struct {
	// BusyTimeout is how long a writer waits for another writer's lock
	// (DefaultBusyTimeout when zero).
	BusyTimeout time.Duration
	// KeepValues is how many recent values AddValues keeps per host and
	// metric (DefaultKeepValues when zero).
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

// DB is the state database. It is safe for use by several goroutines, and
// several processes may open the same file.
type DB struct {
	db   *sql.DB
	path string
	keep int

	// platforms, cursors and counters answer the per-host lookups of a
	// round.
	platforms snapshot[hostKey, storedPlatform]
	cursors   snapshot[cursorKey, string]
	counters  snapshot[hostKey, string]

	closeOnce sync.Once
	closeErr  error
}

// Path is the state database's path in dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// Open opens the state database at path, creating the file (mode 0600:
// it holds mail recipients and bodies) and its directory (0700) when
// missing, and migrates its schema to the newest version this binary
// knows. A database written by a newer cscs is refused with a
// *SchemaTooNewError.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open state database: no path given")
	}
	opts = opts.withDefaults()
	migrations, err := sqlmigrate.Load(migrationFiles, migrationDir)
	if err != nil {
		return nil, fmt.Errorf("open state database: embedded migrations: %w", err)
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
	if err := migrate(ctx, db, migrations); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state database %s: %w", path, err)
	}
	return &DB{db: db, path: path, keep: opts.KeepValues}, nil
}

// ErrNoState is returned by OpenReadOnly for a data directory without a
// state database: no round has run there yet.
var ErrNoState = errors.New("no state database yet: no round has run with this data directory")

// OpenReadOnly opens the state database at path for reading only, for
// status pages and scrapes while rounds run: it creates nothing, migrates
// nothing and takes no write lock, so a round's writes never wait for it.
// A missing file is ErrNoState; a schema older or newer than this binary
// knows is an error (the next round migrates an older one).
func OpenReadOnly(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open state database: no path given")
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoState
	}
	opts = opts.withDefaults()
	db, err := sql.Open("sqlite3", uri(path, "mode=ro", busyParam(opts.BusyTimeout)))
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	d := &DB{db: db, path: path, keep: opts.KeepValues}
	migrations, err := sqlmigrate.Load(migrationFiles, migrationDir)
	if err == nil {
		var v int
		if v, err = recordedVersion(ctx, db); err == nil && v != migrations[len(migrations)-1].Version {
			err = fmt.Errorf("schema version %d, this cscs reads %d; the next round migrates it (or upgrade cscs)", v, migrations[len(migrations)-1].Version)
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state database %s: %w", path, err)
	}
	return d, nil
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

// File returns the database's path.
func (d *DB) File() string { return d.path }

// SchemaVersion returns the highest migration recorded in the database.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	return recordedVersion(ctx, d.db)
}

// Close releases the database; safe to call more than once.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		if err := d.db.Close(); err != nil {
			d.closeErr = fmt.Errorf("close state database %s: %w", d.path, err)
		}
	})
	return d.closeErr
}

// inTx runs fn in a transaction (which holds the write lock from its
// start) and commits it when fn succeeds.
func (d *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
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
