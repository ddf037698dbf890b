package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
)

// dbInitCommand prepares the database of --db or, with overlays that have
// storage blocks, every storage they configure (what `cscs run` with the
// same overlays writes to).
func dbInitCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "db init")
	s.dbFlags(fs)
	s.dataFlags(fs, env)
	s.pluginsDir = s.pluginFlags(fs)
	s.overlayFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	cfg, instances, ok := s.storages(ctx, env, fs, "db init")
	if !ok {
		return ExitBadConfig
	}
	if len(instances) > 0 {
		return initStorages(ctx, env, &s, instances, cfg.Redactor(), cfg.Declared())
	}
	if err := s.resolveDB(env); err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitBadConfig
	}
	store, err := openStore(ctx, s.db)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitSomeFailed
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitSomeFailed
	}
	fmt.Fprintf(env.Stdout, "%s: schema version %d\n", pipeline.DisplayName(s.db), v)
	return ExitOK
}

// initStorages opens and closes every storage instance of the overlays,
// which creates or upgrades what each needs (the built-in SQLite and
// PostgreSQL storages migrate their schema on Open). One failing storage
// does not stop the others.
func initStorages(ctx context.Context, env *Env, s *settings, instances []pipeline.StorageInstance, redact func(string) string, decl []pipeline.Declared) int {
	opts := pipeline.Options{Version: env.Version, PluginsDir: s.pluginsDir(), InProcess: true, Declared: decl, Logger: pluginLogger(env)}
	code := ExitOK
	for _, in := range instances {
		label := "storage " + in.Plugin + " " + in.Name
		if err := initStorage(ctx, opts, in); err != nil {
			fmt.Fprintf(env.Stderr, "cscs db init: %s: %s\n", label, redact(err.Error()))
			code = ExitSomeFailed
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: ready\n", label)
	}
	return code
}

// initStorage starts the plugin of in (in process when built in), opens
// it with its configuration and closes it.
func initStorage(ctx context.Context, opts pipeline.Options, in pipeline.StorageInstance) error {
	_, stop, err := pipeline.StartStorage(ctx, opts, in.Plugin, in.Config)
	if err != nil {
		return err
	}
	stop()
	return nil
}

// storages loads the overlays of s and returns their storage blocks;
// errors are printed under command's name (false: exit with
// ExitBadConfig).
func (s *settings) storages(ctx context.Context, env *Env, fs *flag.FlagSet, command string) (*round.Config, []pipeline.StorageInstance, bool) {
	cfg, ok := s.load(ctx, env, fs, command, round.Files{})
	if !ok {
		return nil, nil, false
	}
	instances, err := cfg.StorageInstances()
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, nil, false
	}
	return cfg, instances, true
}

// schemaStore is a database that `cscs db init` prepares.
type schemaStore interface {
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// openStore opens the database db names (a SQLite path or a postgres://
// DSN) and brings its schema up to date.
func openStore(ctx context.Context, db string) (schemaStore, error) {
	name := pipeline.DisplayName(db)
	var (
		store interface {
			schemaStore
			Migrate(ctx context.Context) error
		}
		err error
	)
	if pipeline.IsPostgres(db) {
		store, err = postgres.New(ctx, db)
	} else {
		store, err = sqlite.New(db)
	}
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", name, err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("preparing database %s: %w", name, err)
	}
	return store, nil
}
