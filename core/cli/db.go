package cli

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/pipeline"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
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
	ov, instances, ok := s.overlaidStorages(ctx, env, "db init")
	if !ok {
		return ExitBadConfig
	}
	if len(instances) > 0 {
		return initStorages(ctx, env, &s, instances, overlayRedactor(ov), declared(ov))
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
	opts := pipeline.Options{Version: env.Version, PluginsDir: s.pluginsDir(), InProcess: true, Declared: decl,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "cscs", Output: env.Stderr, Level: hclog.Warn})}
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
	loc, err := pipeline.Locate(opts, sdkplugin.KindStorage, in.Plugin)
	if err != nil {
		return err
	}
	impl, stop, err := loc.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer stop()
	st, ok := impl.(storage.Storage)
	if !ok {
		return fmt.Errorf("plugin %s is not a storage", in.Plugin)
	}
	if err := st.Open(ctx, in.Config); err != nil {
		_ = st.Close(ctx)
		return err
	}
	return st.Close(ctx)
}
