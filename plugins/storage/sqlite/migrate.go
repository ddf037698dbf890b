package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"

	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationDir = "migrations"

// migration is one numbered schema change.
type migration = sqlmigrate.Migration

// SchemaTooNewError reports a database written by a newer CSCS: its
// recorded schema version is above every migration this binary has.
type SchemaTooNewError = sqlmigrate.TooNewError

// loadMigrations reads every migration file in dir of fsys, in version
// order (see sqlmigrate.Load).
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) { return sqlmigrate.Load(fsys, dir) }

// Migrate creates the schema or upgrades it to the newest version this
// binary knows. Each migration runs in its own transaction and is recorded
// in schema_migrations; running Migrate again changes nothing. A database
// whose schema is newer than this binary is refused with a
// *SchemaTooNewError.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.db, s.migrations)
}

func migrate(ctx context.Context, db *sql.DB, migrations []migration) error {
	return sqlmigrate.Run(ctx, sqlmigrate.SQLite(db), migrations)
}

// SchemaVersion returns the highest migration version recorded in the
// database, or 0 when the database has never been migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return sqlmigrate.Version(ctx, sqlmigrate.SQLQuerier{Q: s.db}, sqlmigrate.SQLite(s.db))
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkSchema refuses to write into a database that Migrate has not
// brought to the version this binary knows.
func checkSchema(ctx context.Context, q queryer, known int) error {
	return sqlmigrate.Check(ctx, sqlmigrate.SQLQuerier{Q: q}, sqlmigrate.SQLite(nil), known)
}
