package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/collect"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/engine"
	"github.com/cscs-dev/cscs/core/identity"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/spool"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func runCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "run")
	s.configFlags(fs)
	s.dataFlags(fs, env)
	s.dbFlags(fs)
	s.roundFlags(fs)
	s.pluginsDir = s.pluginFlags(fs)
	s.overlayFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if err := s.check(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitBadConfig
	}
	cfg, code := loadForRound(env, &s)
	if cfg == nil {
		return code
	}
	ov, ok := s.overlaid(ctx, env, fs, "run")
	if !ok {
		return ExitBadConfig
	}
	if ov != nil && len(ov.Storages) > 0 {
		if flagGiven(fs, "db") {
			fmt.Fprintf(env.Stderr, "cscs run: --db is not used: the overlay's storage blocks say where rounds go\n")
		}
	} else if err := s.resolveDB(env); err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitBadConfig
	}
	if s.interval == 0 {
		return runRound(ctx, env, &s, cfg, ov)
	}
	return runEvery(ctx, env, &s, cfg, ov)
}

// flagGiven reports whether the command line set flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// runEvery runs a round every s.interval until ctx ends, and returns the
// exit code of the last round that ran to its end (ExitSomeFailed when
// none did): stopping is the normal end of a periodic run, and the round
// it interrupts is stored with its unfinished hosts as cancelled. A round
// longer than the interval is followed by the next one at once.
func runEvery(ctx context.Context, env *Env, s *settings, cfg *config.Config, ov *overlay.Overlay) int {
	last := ExitSomeFailed
	for {
		start := time.Now()
		code := runRound(ctx, env, s, cfg, ov)
		if ctx.Err() != nil {
			return last
		}
		last = code
		wait := time.Until(start.Add(s.interval))
		if wait <= 0 {
			fmt.Fprintf(env.Stderr, "cscs run: the round took %s, longer than the interval %s; the next one starts now\n",
				time.Since(start).Round(time.Millisecond), s.interval)
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return last
		case <-t.C:
		}
	}
}

// loadForRound loads the inventory and, when present, the mail settings;
// it prints diagnostics and returns nil with an exit code on errors.
func loadForRound(env *Env, s *settings) (*config.Config, int) {
	cfg, diags := config.LoadInventory(s.configPath, config.LoadOptions{})
	printDiagnostics(env, diags)
	if diags.HasErrors() {
		fmt.Fprintf(env.Stderr, "cscs: %s has errors; fix them and run again (`cscs validate` checks without collecting)\n", s.configPath)
		return nil, ExitBadConfig
	}
	return cfg, ExitOK
}

func printDiagnostics(env *Env, diags config.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintln(env.Stderr, d.String())
	}
}

// runRound performs one round over cfg's clients and stores it in the
// SQLite database of s.
func runRound(ctx context.Context, env *Env, s *settings, cfg *config.Config, ov *overlay.Overlay) int {
	moduleConfig, err := s.moduleConfig()
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitBadConfig
	}
	storages, err := overlayStorages(ov)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitBadConfig
	}
	id, created, err := identity.LoadOrCreate(s.dataDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: core key: %v\n", err)
		return ExitSomeFailed
	}
	if created {
		fmt.Fprintf(env.Stderr, "created the core key in %s (public key %s)\n", s.dataDir, id.Recipient())
	}
	hostKeys, err := transport.NewHostKeys(filepath.Join(s.dataDir, "known_hosts"), s.acceptNew)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitSomeFailed
	}
	// Plugins start while the first hosts connect; hosts wait for the
	// sources only once their platform is known.
	pending := pipeline.Start(ctx, pipeline.Options{
		Version: env.Version, PluginsDir: s.pluginsDir(), DB: s.db, InProcess: s.inProcess,
		Storages: storages, Declared: declared(ov),
		Logger: hclog.New(&hclog.LoggerOptions{Name: "cscs", Output: env.Stderr, Level: hclog.Warn}),
	})

	// The state database keeps alert states, the outbox and event cursors.
	// Without it the round still runs: alerts are skipped and cursors do
	// not advance.
	st, err := state.Open(context.WithoutCancel(ctx), state.Path(s.dataDir), state.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: state database: %v; alerts are skipped and event cursors do not advance this round\n", err)
		st = nil
	} else {
		defer st.Close()
	}
	cs := collect.Settings{
		Identity: id, Agents: s.agents(), HostKeys: hostKeys,
		ConnectTimeout: s.connectTO, HandshakeTimeout: s.handshakeTO, MaxHandshakes: s.handshakes, MaxUploads: s.uploads,
		CPUSample: s.cpuSample, UseSSHAgent: env.Getenv("SSH_AUTH_SOCK") != "",
		Sources: pending, ModuleConfig: moduleConfig,
	}
	if st != nil {
		cs.Cursors, cs.Platforms = st, st
	}
	if ov != nil {
		policy, err := newHostPolicy(ov, moduleConfig)
		if err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
			return ExitBadConfig
		}
		cs.Policy = policy
	}
	collector := collect.New(cs)
	hosts := make([]engine.Host, len(cfg.Clients))
	for i, cl := range cfg.Clients {
		hosts[i] = engine.Host{IP: cl.IP, Port: cl.Port}
	}
	prog := &progress{w: env.Stderr, tty: isTerminal(env.Stderr)}
	batch := engine.Run(ctx, hosts, engine.CollectorFunc(func(ctx context.Context, i int) storage.Collection {
		return collector.Collect(ctx, cfg.Clients[i])
	}), engine.Options{
		Concurrency: s.concurrency,
		HostTimeout: s.hostTO,
		Progress:    prog.host,
	})

	pipe, err := pending.Wait(context.WithoutCancel(ctx))
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitSomeFailed
	}
	defer pipe.Close(context.WithoutCancel(ctx))
	redact := overlayRedactor(ov)
	for _, w := range pipe.Warnings {
		fmt.Fprintf(env.Stderr, "cscs run: %s\n", redact(w.Error()))
	}

	rules, ruleDiags := compileRules(cfg, pipe.Sources.Descriptions())
	printDiagnostics(env, ruleDiags)

	// Alerts first, so the storages also receive the alert states and
	// outbox records the round changed.
	orules := newOverlayRules(ov, pipe.Sources.Descriptions())
	mail := raiseAlerts(context.WithoutCancel(ctx), env, st, s, cfg, ov, rules, orules, pipe.Sources.Descriptions(), batch)
	batch.Alerts, batch.Notifications = mail.alerts, mail.notifications

	// Store even when the round was cancelled: what finished is kept.
	stored := storeRound(context.WithoutCancel(ctx), env, id, s.dataDir, pipe.Storages, batch, redact)

	where := pipeline.DisplayName(s.db)
	if len(storages) > 0 {
		var labels []string
		for _, st := range pipe.Storages {
			labels = append(labels, st.Label)
		}
		where = strings.Join(labels, ", ")
	}
	if s.output == "json" {
		if err := writeJSON(env.Stdout, batch, where); err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: writing JSON: %v\n", err)
		}
	} else {
		writeTable(env.Stdout, batch)
		fmt.Fprintln(env.Stdout)
		fmt.Fprintln(env.Stdout, summaryLine(batch))
		if stored {
			fmt.Fprintf(env.Stdout, "stored round %s in %s\n", batch.RoundID, where)
		}
	}
	if ruleDiags.HasErrors() {
		fmt.Fprintf(env.Stderr, "cscs run: the alert rules above with errors were skipped; fix %s\n", s.configPath)
		return ExitBadConfig
	}
	if !stored || !mail.ok {
		return ExitSomeFailed
	}
	if !engine.AllOK(batch) {
		return ExitSomeFailed
	}
	return ExitOK
}

// moduleConfig is the per-module settings the flags ask every host for.
func (s *settings) moduleConfig() (map[string]json.RawMessage, error) {
	if s.authlogFile == "" {
		return nil, nil
	}
	if !strings.HasPrefix(s.authlogFile, "/") {
		return nil, fmt.Errorf("--authlog-file %q is not an absolute path; give the file's path on the hosts", s.authlogFile)
	}
	raw, err := json.Marshal(map[string]string{"file": s.authlogFile})
	if err != nil {
		return nil, fmt.Errorf("encode --authlog-file: %w", err)
	}
	return map[string]json.RawMessage{"authlog": raw}, nil
}

// storeRound hands the batch to every storage, all at once. For each,
// rounds spooled by earlier runs are replayed first; a batch a storage
// cannot take is spooled (encrypted to the core's key) for the next run.
// Its messages are printed storage by storage, in order. It reports
// whether every storage took the batch.
func storeRound(ctx context.Context, env *Env, id *age.X25519Identity, dataDir string, storages []pipeline.Storage, batch *storage.Batch,
	redact func(string) string) bool {
	messages := make([]strings.Builder, len(storages))
	stored := make([]bool, len(storages))
	var wg sync.WaitGroup
	for i, st := range storages {
		wg.Go(func() {
			stored[i] = storeIn(ctx, &messages[i], id, dataDir, st, batch, redact)
		})
	}
	wg.Wait()
	for i := range messages {
		fmt.Fprint(env.Stderr, messages[i].String())
	}
	return !slices.Contains(stored, false)
}

// storeIn is storeRound for one storage; its messages go to w.
func storeIn(ctx context.Context, w io.Writer, id *age.X25519Identity, dataDir string, st pipeline.Storage, batch *storage.Batch,
	redact func(string) string) bool {
	sp, err := spool.Open(filepath.Join(dataDir, "spool"), st.Name, id)
	if err != nil {
		fmt.Fprintf(w, "cscs run: %v\n", err)
		return false
	}
	n, err := sp.Replay(ctx, st.Storage)
	if n > 0 {
		fmt.Fprintf(w, "stored %d round(s) spooled by earlier runs in %s\n", n, st.Label)
	}
	if err == nil {
		err = st.Storage.WriteBatch(ctx, batch)
	}
	if err == nil {
		return true
	}
	if perr := sp.Put(batch); perr != nil {
		fmt.Fprintf(w, "cscs run: round %s was NOT stored in %s (%s) and could not be spooled: %v\n", batch.RoundID, st.Label, redact(err.Error()), perr)
		return false
	}
	fmt.Fprintf(w, "cscs run: round %s was not stored in %s (%s); it is spooled in %s and will be stored by the next run\n",
		batch.RoundID, st.Label, redact(err.Error()), sp.Dir())
	return false
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
