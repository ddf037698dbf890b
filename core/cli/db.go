package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// dbTargets are the storages of the overlays' storage blocks or, without
// any, the built-in storage of --db; opts start their plugins (built-ins
// in process). Errors are printed under command's name (false: exit with
// ExitBadConfig).
func (s *settings) dbTargets(ctx context.Context, env *Env, fs *flag.FlagSet, command string) ([]round.StorageTarget, pipeline.Options, func(string) string, bool) {
	cfg, ok := s.load(ctx, env, fs, command, round.Files{})
	if !ok {
		return nil, pipeline.Options{}, nil, false
	}
	opts := pipeline.Options{Version: env.Version, PluginsDir: s.pluginsDir(), InProcess: true, Declared: cfg.Declared(), Logger: s.pluginLogger(env)}
	if !cfg.HasStorageBlocks() {
		if err := s.resolveDB(env); err != nil {
			fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
			return nil, opts, nil, false
		}
	}
	targets, err := cfg.StorageTargets(s.db)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, opts, nil, false
	}
	return targets, opts, cfg.Redactor(), true
}

// dbInitCommand creates or upgrades the database of --db or, with
// overlays that have storage blocks, of every storage they configure
// (what `cscs run` with the same overlays writes to), through each
// storage's Migrate. One failing does not stop the others.
func dbInitCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "db init")
	s.dbFlags(fs)
	s.dataFlags(fs, env)
	s.pluginFlags(fs)
	s.overlayFlags(fs)
	s.outputFlag(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if err := s.checkOutput(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitBadConfig
	}
	targets, opts, redact, ok := s.dbTargets(ctx, env, fs, "db init")
	if !ok {
		return ExitBadConfig
	}
	code := ExitOK
	out := round.Maintenance{Schema: "cscs/db-init/v1"}
	for _, t := range targets {
		m, err := pipeline.Migrate(ctx, opts, t.Plugin, t.Config)
		r := round.MaintenanceResult{Storage: t.Storage(), Target: m.Target, SchemaVersion: m.SchemaVersion}
		if err != nil {
			r.Error = redact(err.Error())
		}
		out.Storages = append(out.Storages, r)
		switch {
		case err != nil:
			fmt.Fprintf(env.Stderr, "cscs db init: %s%s\n", t.Label, r.Error)
			code = ExitSomeFailed
		case s.output == "json":
		case m.SchemaVersion == 0:
			fmt.Fprintf(env.Stdout, "%sready\n", t.Label)
		case t.Label != "":
			fmt.Fprintf(env.Stdout, "%sready (%s, schema version %d)\n", t.Label, m.Target, m.SchemaVersion)
		default:
			fmt.Fprintf(env.Stdout, "%s: schema version %d\n", m.Target, m.SchemaVersion)
		}
	}
	return s.finishDB(env, "db init", out, code)
}

// finishDB writes out as JSON when asked, and returns code.
func (s *settings) finishDB(env *Env, command string, out round.Maintenance, code int) int {
	if s.output != "json" {
		return code
	}
	if err := writeJSONValue(env.Stdout, out); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return ExitSomeFailed
	}
	return code
}

// dbPruneCommand deletes old collections, events, notification records
// and alert states from the database of --db or of every storage block of
// the overlays, through each storage's Prune; a storage without Prune is
// skipped with a message. With --dry-run it only counts them, through
// each storage's PrunePreview, and a storage without that is skipped:
// it is never pruned instead. One failing does not stop the others.
func dbPruneCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "db prune")
	fs.StringVar(&s.dbPath, "db", "cscs.db", "SQLite database file, or a postgres:// (postgresql://) DSN; env:NAME or file:PATH reads it from there, "+
		"so that a password stays out of the process list (or give the password in PGPASSWORD)")
	olderThan := fs.String("older-than", "", `delete collections that started, events logged, and sent or failed notification records and alert states not firing last updated, longer ago than this: `+
		`days such as "90d" or a duration such as "36h" (required)`)
	dryRun := fs.Bool("dry-run", false, "count what would be deleted and delete nothing (a storage that cannot count without deleting is left alone)")
	s.dataFlags(fs, env)
	s.pluginFlags(fs)
	s.overlayFlags(fs)
	s.outputFlag(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if *olderThan == "" {
		fmt.Fprintln(env.Stderr, `cscs db prune: --older-than is required, such as --older-than 90d`)
		return ExitBadConfig
	}
	if err := s.checkOutput(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: %v\n", err)
		return ExitBadConfig
	}
	age, err := storage.ParseAge(*olderThan)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db prune: --older-than: %v\n", err)
		return ExitBadConfig
	}
	cutoff := time.Now().Add(-age).UTC().Truncate(time.Second)
	targets, opts, redact, ok := s.dbTargets(ctx, env, fs, "db prune")
	if !ok {
		return ExitBadConfig
	}
	prune := pipeline.Prune
	if *dryRun {
		prune = pipeline.PrunePreview
	}
	code := ExitOK
	out := round.Maintenance{Schema: "cscs/db-prune/v1", OlderThan: &cutoff, DryRun: *dryRun}
	text := s.output != "json"
	for _, t := range targets {
		p, err := prune(ctx, opts, t.Plugin, t.Config, cutoff)
		r := round.MaintenanceResult{Storage: t.Storage(), Target: p.Target, Collections: p.Collections, Events: p.Events, Notifications: p.Notifications, Alerts: p.Alerts}
		switch {
		case errors.Is(err, storage.ErrUnsupported):
			r.Skipped, r.Error = true, err.Error()
			fmt.Fprintf(env.Stderr, "cscs db prune: %sskipped: %v\n", t.Label, err)
		case err != nil:
			if text && t.Label != "" {
				fmt.Fprintf(env.Stdout, "%sfailed\n", t.Label)
			}
			if !*dryRun && p.Total() > 0 {
				err = fmt.Errorf("%w (deleted %d collections, %d events, %d notification records and %d alert states before the error)",
					err, p.Collections, p.Events, p.Notifications, p.Alerts)
			}
			r.Error = redact(err.Error())
			fmt.Fprintf(env.Stderr, "cscs db prune: %s%s\n", t.Label, r.Error)
			code = ExitSomeFailed
		case !text:
		case *dryRun:
			fmt.Fprintf(env.Stdout, "%s%s: would delete %d collections (and their samples), %d events, %d notification records and %d alert states from before %s; "+
				"nothing was deleted (dry run)\n",
				t.Label, p.Target, p.Collections, p.Events, p.Notifications, p.Alerts, cutoff.Format(time.RFC3339))
		default:
			fmt.Fprintf(env.Stdout, "%s%s: deleted %d collections (and their samples) and %d events from before %s, and %d notification records and %d alert states last updated before it; "+
				"each host's latest ok collection, pending notifications and firing alerts are kept\n",
				t.Label, p.Target, p.Collections, p.Events, cutoff.Format(time.RFC3339), p.Notifications, p.Alerts)
		}
		out.Storages = append(out.Storages, r)
	}
	return s.finishDB(env, "db prune", out, code)
}
