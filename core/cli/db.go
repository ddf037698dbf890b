package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// dbTarget is a storage `cscs db init` or `cscs db prune` acts on.
type dbTarget struct {
	// label prefixes its lines ("storage sqlite a: "); empty for --db.
	label string
	// name is the storage block's name; empty for --db.
	name   string
	plugin string
	config []byte
}

// dbTargets are the storages of the overlays' storage blocks or, without
// any, the built-in storage of --db; opts start their plugins (built-ins
// in process). Errors are printed under command's name (false: exit with
// ExitBadConfig).
func (s *settings) dbTargets(ctx context.Context, env *Env, fs *flag.FlagSet, command string) ([]dbTarget, pipeline.Options, func(string) string, bool) {
	cfg, ok := s.load(ctx, env, fs, command, round.Files{})
	if !ok {
		return nil, pipeline.Options{}, nil, false
	}
	opts := pipeline.Options{Version: env.Version, PluginsDir: s.pluginsDir(), InProcess: true, Declared: cfg.Declared(), Logger: s.pluginLogger(env)}
	instances, err := cfg.StorageInstances()
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, opts, nil, false
	}
	var targets []dbTarget
	for _, in := range instances {
		targets = append(targets, dbTarget{label: "storage " + in.Plugin + " " + in.Name + ": ", name: in.Name, plugin: in.Plugin, config: in.Config})
	}
	if len(targets) > 0 {
		return targets, opts, cfg.Redactor(), true
	}
	if err := s.resolveDB(env); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, opts, nil, false
	}
	d, err := plugins.DatabaseStorage(s.db)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: --db: %v\n", command, err)
		return nil, opts, nil, false
	}
	return []dbTarget{{plugin: d.Plugin, config: d.Config}}, opts, cfg.Redactor(), true
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
	out := dbOutput{Schema: "cscs/db-init/v1"}
	for _, t := range targets {
		m, err := pipeline.Migrate(ctx, opts, t.plugin, t.config)
		r := dbResult{Storage: t.storage(), Target: m.Target, SchemaVersion: m.SchemaVersion}
		if err != nil {
			r.Error = redact(err.Error())
		}
		out.Storages = append(out.Storages, r)
		switch {
		case err != nil:
			fmt.Fprintf(env.Stderr, "cscs db init: %s%s\n", t.label, r.Error)
			code = ExitSomeFailed
		case s.output == "json":
		case m.SchemaVersion == 0:
			fmt.Fprintf(env.Stdout, "%sready\n", t.label)
		case t.label != "":
			fmt.Fprintf(env.Stdout, "%sready (%s, schema version %d)\n", t.label, m.Target, m.SchemaVersion)
		default:
			fmt.Fprintf(env.Stdout, "%s: schema version %d\n", m.Target, m.SchemaVersion)
		}
	}
	return s.finishDB(env, "db init", out, code)
}

// dbOutput is `cscs db init` and `cscs db prune` with --output json
// (schemas cscs/db-init/v1 and cscs/db-prune/v1, docs/json.md).
type dbOutput struct {
	Schema string `json:"schema"`
	// OlderThan is the prune's cutoff (db prune).
	OlderThan *time.Time `json:"older_than,omitempty"`
	// DryRun is set by db prune --dry-run: the counts are what would be
	// deleted, and nothing was.
	DryRun   bool       `json:"dry_run,omitempty"`
	Storages []dbResult `json:"storages"`
}

// dbResult is what one storage did.
type dbResult struct {
	// Storage is the storage block ("sqlite local") or "--db".
	Storage string `json:"storage"`
	// Target is the database as the storage names it, credentials left
	// out.
	Target        string `json:"target,omitempty"`
	SchemaVersion int    `json:"schema_version,omitempty"`
	Collections   int64  `json:"collections_deleted,omitempty"`
	Events        int64  `json:"events_deleted,omitempty"`
	Notifications int64  `json:"notifications_deleted,omitempty"`
	Alerts        int64  `json:"alerts_deleted,omitempty"`
	Skipped       bool   `json:"skipped,omitempty"`
	Error         string `json:"error,omitempty"`
}

// storage names t in JSON output.
func (t dbTarget) storage() string {
	if t.name == "" {
		return "--db"
	}
	return t.plugin + " " + t.name
}

// finishDB writes out as JSON when asked, and returns code.
func (s *settings) finishDB(env *Env, command string, out dbOutput, code int) int {
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
	out := dbOutput{Schema: "cscs/db-prune/v1", OlderThan: &cutoff, DryRun: *dryRun}
	text := s.output != "json"
	for _, t := range targets {
		p, err := prune(ctx, opts, t.plugin, t.config, cutoff)
		r := dbResult{Storage: t.storage(), Target: p.Target, Collections: p.Collections, Events: p.Events, Notifications: p.Notifications, Alerts: p.Alerts}
		switch {
		case errors.Is(err, storage.ErrUnsupported):
			r.Skipped, r.Error = true, err.Error()
			fmt.Fprintf(env.Stderr, "cscs db prune: %sskipped: %v\n", t.label, err)
		case err != nil:
			if text && t.label != "" {
				fmt.Fprintf(env.Stdout, "%sfailed\n", t.label)
			}
			if !*dryRun && p.Total() > 0 {
				err = fmt.Errorf("%w (deleted %d collections, %d events, %d notification records and %d alert states before the error)",
					err, p.Collections, p.Events, p.Notifications, p.Alerts)
			}
			r.Error = redact(err.Error())
			fmt.Fprintf(env.Stderr, "cscs db prune: %s%s\n", t.label, r.Error)
			code = ExitSomeFailed
		case !text:
		case *dryRun:
			fmt.Fprintf(env.Stdout, "%s%s: would delete %d collections (and their samples), %d events, %d notification records and %d alert states from before %s; "+
				"nothing was deleted (dry run)\n",
				t.label, p.Target, p.Collections, p.Events, p.Notifications, p.Alerts, cutoff.Format(time.RFC3339))
		default:
			fmt.Fprintf(env.Stdout, "%s%s: deleted %d collections (and their samples) and %d events from before %s, and %d notification records and %d alert states last updated before it; "+
				"each host's latest ok collection, pending notifications and firing alerts are kept\n",
				t.label, p.Target, p.Collections, p.Events, cutoff.Format(time.RFC3339), p.Notifications, p.Alerts)
		}
		out.Storages = append(out.Storages, r)
	}
	return s.finishDB(env, "db prune", out, code)
}
