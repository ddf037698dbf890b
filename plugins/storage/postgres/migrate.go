package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationDir = "migrations"

// migrationLockKey is the first half of the advisory lock that serializes
// migrations; the second half is the hash of the schema migrated, so that
// databases (and schemas) do not wait for each other.
const migrationLockKey = 0x63736373 // "cscs"

// migration is one numbered schema change.
type migration = sqlmigrate.Migration

// SchemaTooNewError reports a database written by a newer CSCS: its
// recorded schema version is above every migration this binary has.
type SchemaTooNewError = sqlmigrate.TooNewError

// loadMigrations reads every migration file in dir of fsys, in version
// order (see sqlmigrate.Load).
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) { return sqlmigrate.Load(fsys, dir) }

// beginner is what the migration runner needs: a pool or a connection.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// dialect is PostgreSQL's for the migration runner: each migration's
// transaction first takes a transaction-scoped advisory lock, so cores
// starting at the same time migrate one after the other.
func dialect(db beginner) sqlmigrate.Dialect {
	return sqlmigrate.Dialect{
		Begin: func(ctx context.Context) (sqlmigrate.Tx, error) {
			tx, err := db.Begin(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))`, int32(migrationLockKey)); err != nil {
				_ = tx.Rollback(ctx)
				return nil, fmt.Errorf("wait for other cores' migrations: %w", err)
			}
			return pgTx{tx}, nil
		},
		// The schema_migrations table that the search_path finds.
		HasTable: `SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END`,
		CreateTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL
)`,
		Record: `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, date_trunc('milliseconds', now()))`,
	}
}

// Migrate creates the schema or upgrades it to the newest version this
// binary knows. Each migration runs in its own transaction, under an
// advisory lock, together with its row in schema_migrations; running
// Migrate again, or from several cores at once, applies each migration
// once. A database whose schema is newer than this binary is refused with
// a *SchemaTooNewError.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.pool, s.migrations)
}

func migrate(ctx context.Context, db beginner, migrations []migration) error {
	return sqlmigrate.Run(ctx, dialect(db), migrations)
}

// SchemaVersion returns the highest migration version recorded in the
// database, or 0 when the database has never been migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return sqlmigrate.Version(ctx, pgQuerier{s.pool}, dialect(nil))
}

// queryer is a pool, a connection or a transaction.
type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkSchema refuses to write into a database that Migrate has not
// brought to the version this binary knows.
func checkSchema(ctx context.Context, q queryer, known int) error {
	return sqlmigrate.Check(ctx, pgQuerier{q}, dialect(nil), known)
}

// pgQuerier adapts a queryer to sqlmigrate.Querier.
type pgQuerier struct{ q queryer }

func (p pgQuerier) QueryInt(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := p.q.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// pgTx adapts a pgx.Tx to sqlmigrate.Tx.
type pgTx struct{ tx pgx.Tx }

func (t pgTx) QueryInt(ctx context.Context, query string, args ...any) (int, error) {
	return pgQuerier{t.tx}.QueryInt(ctx, query, args...)
}

func (t pgTx) Exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.Exec(ctx, query, args...)
	return err
}

func (t pgTx) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t pgTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
