// Package sqlite is the built-in SQLite storage backend of CSCS. It writes
// each round's results into a SQLite database whose schema is a documented
// contract (docs/schema.md) that other applications read.
//
// The package imports only the standard library, the SQLite driver and the
// CSCS SDK, so it can be served out of process like any third-party plugin.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// busyTimeout is how long a writer waits for another writer's lock before
// it gives up with "database is locked".
const busyTimeout = 10 * time.Second

// Store is a SQLite database that receives CSCS rounds. It is safe for use
// by several goroutines; several Stores (or processes) may share one file.
type Store struct {
	db         *sql.DB
	path       string
	migrations []migration
	// pruneChunk is how many collections (or events) one prune
	// transaction deletes at most; zero means retained.DefaultChunk.
	pruneChunk int

	closeOnce sync.Once
	closeErr  error
}

// New opens (creating if needed) the SQLite database at path. It does not
// create or change the schema: call Migrate for that.
func New(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite database: path is empty")
	}
	migrations, err := loadMigrations(migrationFiles, migrationDir)
	if err != nil {
		return nil, fmt.Errorf("load embedded migrations: %w", err)
	}
	if err := prepareFiles(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), busyTimeout+5*time.Second)
	defer cancel()
	// Switching a new file to WAL needs an exclusive lock and SQLite may
	// answer "database is locked" at once, without waiting out the busy
	// timeout, while another process opens the same file: retry until the
	// timeout.
	err = db.PingContext(ctx)
	for err != nil && strings.Contains(err.Error(), "database is locked") && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		err = db.PingContext(ctx)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite database %s (check that the directory exists and is writable): %w", path, err)
	}
	return &Store{db: db, path: path, migrations: migrations}, nil
}

// dsn builds a go-sqlite3 URI for path: busy timeout, foreign keys, WAL
// journal, synchronous=NORMAL, and transactions that take the write lock
// at BEGIN so that concurrent writers wait instead of deadlocking.
func dsn(path string) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
	params := []string{
		"_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10),
		"_foreign_keys=on",
		"_journal_mode=WAL",
		"_synchronous=NORMAL",
		"_txlock=immediate",
	}
	return "file:" + escaped + "?" + strings.Join(params, "&")
}

// Close releases the database. It is safe to call more than once; later
// calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close sqlite database %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
