// Package sqlmigrate applies numbered SQL migrations to a database and
// keeps their record in a schema_migrations table: the one migration
// runner of the core's state database and the SQLite and PostgreSQL
// storages, for any SQL storage a plugin author writes. Migrations are
// files NNNN_name.sql, versions 1, 2, 3, ... without gaps; each is applied
// in a transaction of its own together with its row, so that a migration
// is applied once however many processes migrate at the same time, and a
// database recorded at a version newer than the binary's is refused.
//
// What differs between databases is a Dialect. SQLite over database/sql
// comes with the package (SQLite); others bring their own.
package sqlmigrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// fileName is NNNN_lower_snake_name.sql.
var fileName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// Load reads the migrations in dir of fsys, in version order. Every file
// there (subdirectories are passed over) must be named NNNN_name.sql, and versions must run 1, 2, 3, ...
// without gaps or repeats.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations directory: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		version, _ := strconv.Atoi(m[1]) // four digits
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: version, Name: m[2], SQL: string(body)})
	}
	if len(out) == 0 {
		return nil, errors.New("no migrations found")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration versions must be 1, 2, 3, ... without gaps or duplicates; found %04d_%s.sql at position %d", m.Version, m.Name, i+1)
		}
	}
	return out, nil
}

// TooNewError refuses a database whose recorded schema version is above
// every migration this binary has: a newer program wrote it.
type TooNewError struct {
	// Found is the highest version recorded in the database; Known the
	// highest this binary can migrate to.
	Found, Known int
	// What names the database ("database", "state database"), Fix says
	// what to do ("upgrade cscs").
	What, Fix string
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("%s schema version %d is newer than this cscs (knows %d); %s", e.What, e.Found, e.Known, e.Fix)
}

// Querier runs a query that returns one integer.
type Querier interface {
	QueryInt(ctx context.Context, query string, args ...any) (int, error)
}

// Tx is one migration's transaction.
type Tx interface {
	Querier
	Exec(ctx context.Context, query string, args ...any) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Dialect is what differs between SQL databases.
type Dialect struct {
	// Begin starts a migration transaction that holds, until it ends,
	// whatever lock keeps migrating processes apart (SQLite's write lock,
	// a PostgreSQL advisory lock).
	Begin func(ctx context.Context) (Tx, error)
	// HasTable is a query answering 1 when schema_migrations exists, else 0.
	HasTable string
	// CreateTable creates schema_migrations (version, name, applied_at)
	// when it does not exist.
	CreateTable string
	// Record inserts a migration's row; its arguments are the version and
	// the name, and it sets applied_at itself.
	Record string
	// What and Fix go into a TooNewError (defaults "database" and
	// "upgrade cscs").
	What, Fix string
}

// Run applies the migrations the database lacks, one transaction each,
// and returns a *TooNewError for a database newer than migrations.
func Run(ctx context.Context, d Dialect, migrations []Migration) error {
	for {
		done, err := step(ctx, d, migrations)
		if err != nil || done {
			return err
		}
	}
}

// step applies the next migration the database lacks, if any, in one
// transaction from the version check to the commit, and reports whether
// the database is up to date.
func step(ctx context.Context, d Dialect, migrations []Migration) (done bool, err error) {
	tx, err := d.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback(ctx)
		}
	}()
	if err := tx.Exec(ctx, d.CreateTable); err != nil {
		return false, fmt.Errorf("create schema_migrations table: %w", err)
	}
	current, err := Version(ctx, tx, d)
	if err != nil {
		return false, err
	}
	known := len(migrations)
	if current > known {
		return false, d.tooNew(current, known)
	}
	if current == known {
		return true, tx.Commit(ctx)
	}
	m := migrations[current]
	if err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if err := tx.Exec(ctx, d.Record, m.Version, m.Name); err != nil {
		return false, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit migration %04d_%s: %w", m.Version, m.Name, err)
	}
	return false, nil
}

func (d Dialect) tooNew(found, known int) *TooNewError {
	e := &TooNewError{Found: found, Known: known, What: d.What, Fix: d.Fix}
	if e.What == "" {
		e.What = "database"
	}
	if e.Fix == "" {
		e.Fix = "upgrade cscs"
	}
	return e
}

// Version returns the highest migration version recorded in the
// database, 0 when it was never migrated.
func Version(ctx context.Context, q Querier, d Dialect) (int, error) {
	exists, err := q.QueryInt(ctx, d.HasTable)
	if err != nil {
		return 0, fmt.Errorf("look for schema_migrations table: %w", err)
	}
	if exists == 0 {
		return 0, nil
	}
	v, err := q.QueryInt(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Check refuses a database that Run has not brought to version known: a
// *TooNewError when it is newer, an error saying to run `cscs db init`
// when it is older.
func Check(ctx context.Context, q Querier, d Dialect, known int) error {
	current, err := Version(ctx, q, d)
	if err != nil {
		return err
	}
	switch {
	case current > known:
		return d.tooNew(current, known)
	case current < known:
		return fmt.Errorf("%s schema is at version %d but this cscs needs %d; run `cscs db init` to upgrade it", d.whatOr(), current, known)
	}
	return nil
}

func (d Dialect) whatOr() string {
	if d.What == "" {
		return "database"
	}
	return d.What
}
