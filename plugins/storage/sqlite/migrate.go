package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationDir = "migrations"

// migrationName is the file name of a migration: a four-digit version,
// an underscore, a lower_snake_case name and ".sql".
var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// SchemaTooNewError reports a database written by a newer CSCS: its
// recorded schema version is above every migration this binary has.
type SchemaTooNewError struct {
	// Found is the highest version recorded in the database.
	Found int
	// Known is the highest version this binary can migrate to.
	Known int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this cscs (knows %d); upgrade cscs", e.Found, e.Known)
}

// loadMigrations reads every migration file in dir of fsys, in version
// order. Versions must run 1, 2, 3, ... without gaps or duplicates.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations directory: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		version, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("migration file %q: %w", e.Name(), err)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		out = append(out, migration{version: version, name: m[2], sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration versions must be 1, 2, 3, ... without gaps or duplicates; found %04d_%s.sql at position %d", m.version, m.name, i+1)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no migrations found")
	}
	return out, nil
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)`

// Migrate creates the schema or upgrades it to the newest version this
// binary knows. Each migration runs in its own transaction and is recorded
// in schema_migrations; running Migrate again changes nothing. A database
// whose schema is newer than this binary is refused with a
// *SchemaTooNewError.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.db, s.migrations)
}

func migrate(ctx context.Context, db *sql.DB, migrations []migration) error {
	if _, err := db.ExecContext(ctx, createVersionTable); err != nil {
		return fmt.Errorf("create schema_migrations table: %w", err)
	}
	known := len(migrations)
	current, err := recordedVersion(ctx, db)
	if err != nil {
		return err
	}
	if current > known {
		return &SchemaTooNewError{Found: current, Known: known}
	}
	for _, m := range migrations[current:] {
		if err := applyMigration(ctx, db, m, known); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration runs m unless the database already has it. The version is
// read inside the write transaction, so two processes migrating at once do
// not apply the same migration twice.
func applyMigration(ctx context.Context, db *sql.DB, m migration, known int) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration %04d_%s: %w", m.version, m.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return &SchemaTooNewError{Found: current, Known: known}
	}
	if current >= m.version {
		return tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %04d_%s: %w", m.version, m.name, err)
	}
	return nil
}

// SchemaVersion returns the highest migration version recorded in the
// database, or 0 when the database has never been migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return recordedVersion(ctx, s.db)
}

// queryer is what recordedVersion needs: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func recordedVersion(ctx context.Context, q queryer) (int, error) {
	var tables int
	if err := q.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("look for schema_migrations table: %w", err)
	}
	if tables == 0 {
		return 0, nil
	}
	var version int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}
