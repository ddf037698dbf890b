package cli

import (
	"context"
	"encoding/json"
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
	var s settings
	fs := newFlagSet(env, "db prune")
	target := fs.String("db", "cscs.db", "SQLite database file, or a postgres:// (postgresql://) DSN; env:NAME or file:PATH reads it from there, "+
		"so that a password stays out of the process list (or give the password in PGPASSWORD)")
	olderThan := fs.String("older-than", "", `delete collections that started longer ago than this: days such as "90d" or a duration such as "36h" (required)`)
	s.dataFlags(fs, env)
	s.pluginsDir = s.pluginFlags(fs)
	s.overlayFlags(fs)
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
	cutoff := time.Now().Add(-age).UTC().Truncate(time.Second)
	cfg, instances, ok := s.storages(ctx, env, fs, "db prune")
	if !ok {
		return ExitBadConfig
	}
	if len(instances) > 0 {
		return pruneStorages(ctx, env, instances, cutoff, cfg.Redactor())
	}
	where, err := config.ParseSecret(*target, ".", envLookup(env))
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: --db: %v\n", err)
		return ExitBadConfig
	}
	if err := pruneDB(ctx, env, where.Reveal(), cutoff); err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: %v\n", err)
		return ExitSomeFailed
	}
	return ExitOK
}

// pruneStorages prunes the database of every built-in storage of the
// overlays' storage blocks; one failing does not stop the others. Other
// storage plugins prune themselves (their retention setting, if any).
func pruneStorages(ctx context.Context, env *Env, instances []pipeline.StorageInstance, cutoff time.Time, redact func(string) string) int {
	code := ExitOK
	for _, in := range instances {
		label := "storage " + in.Plugin + " " + in.Name
		var target string
		switch in.Plugin {
		case sqlite.Name:
			var c sqlite.Config
			if err := json.Unmarshal(in.Config, &c); err != nil {
				fmt.Fprintf(env.Stderr, "cscs db prune: %s: reading its settings: %v\n", label, err)
				code = ExitSomeFailed
				continue
			}
			target = c.Path
		case postgres.Name:
			var c postgres.Config
			if err := json.Unmarshal(in.Config, &c); err != nil {
				fmt.Fprintf(env.Stderr, "cscs db prune: %s: reading its settings: %v\n", label, redact(err.Error()))
				code = ExitSomeFailed
				continue
			}
			target = c.DSN
		default:
			fmt.Fprintf(env.Stderr, "cscs db prune: %s: skipped: only the built-in sqlite and postgres storages are pruned here; set the plugin's own retention\n", label)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: ", label)
		if err := pruneDB(ctx, env, target, cutoff); err != nil {
			fmt.Fprintln(env.Stdout, "failed")
			fmt.Fprintf(env.Stderr, "cscs db prune: %s: %s\n", label, redact(err.Error()))
			code = ExitSomeFailed
		}
	}
	return code
}

// pruneDB deletes from the SQLite file or PostgreSQL database target the
// collections and events older than cutoff (each host's latest ok
// collection is kept) and says how many went.
func pruneDB(ctx context.Context, env *Env, target string, cutoff time.Time) error {
	db, name, err := openPrunableDB(ctx, target)
	if err != nil {
		return err
	}
	defer db.Close()
	deleted, events, err := db.PruneAll(ctx, cutoff)
	if err != nil {
		return fmt.Errorf("%w (deleted %d collections and %d events before the error)", err, deleted, events)
	}
	fmt.Fprintf(env.Stdout, "%s: deleted %d collections (and their samples) and %d events from before %s; each host's latest ok collection is kept\n",
		name, deleted, events, cutoff.Format(time.RFC3339))
	return nil
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
