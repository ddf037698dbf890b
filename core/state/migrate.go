package state

import (
	"context"
	"database/sql"
	"embed"

	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationDir = "migrations"

// SchemaTooNewError refuses a state database written by a newer cscs.
type SchemaTooNewError = sqlmigrate.TooNewError

// dialect is the state database's for the migration runner: SQLite, with
// its own advice for a schema too new.
func dialect(db *sql.DB) sqlmigrate.Dialect {
	d := sqlmigrate.SQLite(db)
	d.What, d.Fix = "state database", "upgrade cscs or use another --data-dir"
	return d
}

// migrate applies the migrations the database lacks (see sqlmigrate.Run).
func migrate(ctx context.Context, db *sql.DB, migrations []sqlmigrate.Migration) error {
	return sqlmigrate.Run(ctx, dialect(db), migrations)
}

// recordedVersion is the highest applied migration, 0 for a new file.
func recordedVersion(ctx context.Context, db *sql.DB) (int, error) {
	return sqlmigrate.Version(ctx, sqlmigrate.SQLQuerier{Q: db}, dialect(db))
}
