package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationDir = "migrations"

// migrationName is the file name of a migration: a four-digit version,
// an underscore, a lower_snake_case name and ".sql".
var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// migrationLockKey is the first half of the advisory lock that serializes
// migrations; the second half is the hash of the schema migrated, so that
// databases (and schemas) do not wait for each other.
const migrationLockKey = 0x63736373 // "cscs"

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
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL
)`

// lockMigrations takes the transaction-scoped advisory lock that makes
// cores starting at the same time migrate one after the other.
const lockMigrations = `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))`

// Migrate creates the schema or upgrades it to the newest version this
// binary knows. Each migration runs in its own transaction, under an
// advisory lock, together with its row in schema_migrations; running
// Migrate again, or from several cores at once, applies each migration
// once. A database whose schema is newer than this binary is refused with
// a *SchemaTooNewError.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.pool, s.migrations)
}

// beginner is what the migration runner needs: a pool or a connection.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

func migrate(ctx context.Context, db beginner, migrations []migration) error {
	for {
		done, err := migrateStep(ctx, db, migrations)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration the database lacks, if any, in
// one transaction that holds the advisory lock from the version check to
// the commit. It reports whether the database is up to date.
func migrateStep(ctx context.Context, db beginner, migrations []migration) (done bool, err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	if _, err := tx.Exec(ctx, lockMigrations, int32(migrationLockKey)); err != nil {
		return false, fmt.Errorf("wait for other cores' migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, createVersionTable); err != nil {
		return false, fmt.Errorf("create schema_migrations table: %w", err)
	}
	known := len(migrations)
	current, err := recordedVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	if current > known {
		return false, &SchemaTooNewError{Found: current, Known: known}
	}
	if current == known {
		return true, tx.Commit(ctx)
	}
	m := migrations[current]
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("apply migration %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, date_trunc('milliseconds', now()))`,
		m.version, m.name); err != nil {
		return false, fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit migration %04d_%s: %w", m.version, m.name, err)
	}
	return false, nil
}

// SchemaVersion returns the highest migration version recorded in the
// database, or 0 when the database has never been migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return recordedVersion(ctx, s.pool)
}

// queryer is what recordedVersion needs: a pool, a connection or a
// transaction.
type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// recordedVersion reads the schema version of the schema_migrations table
// that the connection's search_path finds.
func recordedVersion(ctx context.Context, q queryer) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("look for schema_migrations table: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var version int
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// checkSchema refuses to write into a database that Migrate has not
// brought to the version this binary knows.
func checkSchema(ctx context.Context, q queryer, known int) error {
	current, err := recordedVersion(ctx, q)
	if err != nil {
		return err
	}
	switch {
	case current > known:
		return &SchemaTooNewError{Found: current, Known: known}
	case current < known:
		return fmt.Errorf("database schema is at version %d but this cscs needs %d; run `cscs db init` to upgrade it", current, known)
	}
	return nil
}
