package state

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

// The migrations of each engine: the same numbers and names, each pair
// with the same meaning. The SQLite files are those of every state.db
// written so far; their recorded versions stay valid.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationDir is the directory of the engine's migrations in
// migrationFiles.
func migrationDir(pg bool) string {
	if pg {
		return "migrations/postgres"
	}
	return "migrations/sqlite"
}

// loadMigrations returns the engine's embedded migrations.
func loadMigrations(pg bool) ([]sqlmigrate.Migration, error) {
	m, err := sqlmigrate.Load(migrationFiles, migrationDir(pg))
	if err != nil {
		return nil, fmt.Errorf("open state database: embedded migrations: %w", err)
	}
	return m, nil
}

// SchemaTooNewError refuses a state database written by a newer cscs.
type SchemaTooNewError = sqlmigrate.TooNewError

// migrationLockKey is the first half of the advisory lock that keeps
// cores migrating one PostgreSQL state schema apart; the second half is
// the hash of the schema, so that schemas do not wait for each other.
const migrationLockKey = 0x73746174 // "stat"

// dialect is the state database's for the migration runner, with its own
// advice for a schema too new: SQLite's (whose immediate transactions
// take the write lock), or PostgreSQL's, whose migration transactions
// first take an advisory lock.
func dialect(db *sql.DB, pg bool) sqlmigrate.Dialect {
	d := sqlmigrate.SQLite(db)
	d.What, d.Fix = "state database", "upgrade cscs or use another --data-dir"
	if !pg {
		return d
	}
	d.Fix = "upgrade cscs or use another state database"
	d.Begin = func(ctx context.Context) (sqlmigrate.Tx, error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))`, int32(migrationLockKey)); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("wait for other cores' migrations: %w", err)
		}
		return sqlmigrate.SQLTx{Tx: tx}, nil
	}
	// The schema_migrations table that the search_path finds.
	d.HasTable = `SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END`
	d.CreateTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL
)`
	d.Record = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, date_trunc('milliseconds', now()))`
	return d
}

// migrate applies the migrations the database lacks (see sqlmigrate.Run).
func migrate(ctx context.Context, db *sql.DB, pg bool, migrations []sqlmigrate.Migration) error {
	return sqlmigrate.Run(ctx, dialect(db, pg), migrations)
}

// recordedVersion is the highest applied migration, 0 for a new database.
func recordedVersion(ctx context.Context, db *sql.DB, pg bool) (int, error) {
	return sqlmigrate.Version(ctx, sqlmigrate.SQLQuerier{Q: db}, dialect(db, pg))
}
