package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// prunableDB is a database that can delete old collections and events: a SQLite or a
// PostgreSQL store.
type prunableDB interface {
	PruneAll(ctx context.Context, olderThan time.Time) (collections, events int64, err error)
	Close() error
}

func dbPruneCommand(ctx context.Context, env *Env) int {
	fs := newFlagSet(env, "db prune")
	target := fs.String("db", "cscs.db", "SQLite database file, or a postgres:// (postgresql://) DSN; env:NAME or file:PATH reads it from there, "+
		"so that a password stays out of the process list (or give the password in PGPASSWORD)")
	olderThan := fs.String("older-than", "", `delete collections that started longer ago than this: days such as "90d" or a duration such as "36h" (required)`)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if *olderThan == "" {
		fmt.Fprintln(env.Stderr, `cscs db prune: --older-than is required, such as --older-than 90d`)
		return ExitBadConfig
	}
	age, err := storage.ParseAge(*olderThan)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: --older-than: %v\n", err)
		return ExitBadConfig
	}
	where, err := config.ParseSecret(*target, ".", envLookup(env))
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: --db: %v\n", err)
		return ExitBadConfig
	}
	db, name, err := openPrunableDB(ctx, where.Reveal())
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: %v\n", err)
		return ExitSomeFailed
	}
	defer db.Close()

	cutoff := time.Now().Add(-age).UTC().Truncate(time.Second)
	deleted, events, err := db.PruneAll(ctx, cutoff)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: %v (deleted %d collections and %d events before the error)\n", err, deleted, events)
		return ExitSomeFailed
	}
	fmt.Fprintf(env.Stdout, "%s: deleted %d collections (and their samples) and %d events from before %s; each host's latest ok collection is kept\n",
		name, deleted, events, cutoff.Format(time.RFC3339))
	return ExitOK
}

// openPrunableDB opens the database target names, and returns how to name
// it in messages (a DSN without its credentials). It neither creates nor
// migrates a database: pruning one that `cscs db init` has not prepared
// is an error.
func openPrunableDB(ctx context.Context, target string) (prunableDB, string, error) {
	if pipeline.IsPostgres(target) {
		st, err := postgres.New(ctx, target)
		if err != nil {
			return nil, "", err
		}
		return st, st.Database(), nil
	}
	if _, err := os.Stat(target); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("no database at %s; give its path with --db, or a postgres:// DSN", target)
		}
		return nil, "", fmt.Errorf("database %s: %w", target, err)
	}
	st, err := sqlite.New(target)
	if err != nil {
		return nil, "", err
	}
	return st, target, nil
}

// envLookup is os.LookupEnv through env.Getenv: an empty variable counts
// as unset.
func envLookup(env *Env) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v := env.Getenv(name)
		return v, v != ""
	}
}
