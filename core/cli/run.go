package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	flag "github.com/spf13/pflag"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/cluster"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/serve"
)

func runCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "run")
	s.loadFlags(fs, env)
	s.dbFlags(fs)
	s.stateFlag(fs)
	s.roundFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	plan, code := s.prepare(ctx, env, fs, "run")
	if plan == nil {
		return code
	}
	if s.round.Interval == 0 {
		return printRound(env, round.Run(ctx, plan, s.progress(env)), s.output)
	}
	// Rounds on a schedule, as `cscs serve` runs them, without HTTP and
	// without jitter; the exit code is the last complete round's.
	last := serve.New(plan, nil, serve.Options{
		Interval: s.round.Interval, Jitter: -1, Reporter: func() round.Reporter { return s.progress(env) },
		Done:   func(res *round.Result) { printRound(env, res, s.output) },
		Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}).Run(ctx)
	if last == nil || !last.OK() {
		return ExitSomeFailed
	}
	return ExitOK
}

// serveCommand is `cscs serve`: a round every --interval until SIGTERM or
// SIGINT, /healthz, /readyz and /metrics on --listen, and SIGHUP to load
// the configuration again (kept when the new one has errors).
func serveCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "serve")
	s.loadFlags(fs, env)
	s.dbFlags(fs)
	s.stateFlag(fs)
	s.roundFlags(fs)
	listen := fs.String("listen", serve.DefaultListen, "address of the status pages, /healthz, /readyz and /metrics")
	webConfig := fs.String("web-config-file", "", "Prometheus web configuration file (TLS, basic auth) for --listen; without it, plain HTTP for anyone who reaches it")
	format := fs.String("log-format", "text", "log format: text or json (one object a line, for journald and log shippers)")
	level := fs.String("log-level", "info", "least level logged: debug, info, warn or error")
	inCluster := fs.Bool("cluster", false, "share each interval's hosts with the other `cscs serve --cluster` instances on the same --state (PostgreSQL); see docs/scaling.md")
	sites := fs.StringSlice("site", nil, "with --cluster: collect only the hosts of this overlay group (repeat or comma-separate for several); default: the hosts of no site")
	chunk := fs.Int("cluster-chunk", cluster.DefaultChunk, "with --cluster: hosts in one job of the cluster")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	log, err := serve.NewLogger(env.Stderr, *format, *level)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs serve: %v\n", err)
		return ExitBadConfig
	}
	if !flagGiven(fs, "interval") {
		s.round.Interval = serve.DefaultInterval
	}
	flags := s // as parsed: a reload applies the overlays to a fresh copy
	plan, code := s.prepare(ctx, env, fs, "serve")
	if plan == nil {
		return code
	}
	opts := serve.Options{Interval: s.round.Interval, Logger: log}
	if *inCluster || len(*sites) > 0 || flagGiven(fs, "cluster-chunk") {
		c, err := serve.ClusterOptions(plan, *inCluster, *sites, *chunk)
		if err != nil {
			fmt.Fprintf(env.Stderr, "cscs serve: %v\n", err)
			return ExitBadConfig
		}
		opts.Cluster = c
	}
	svc := serve.New(plan, func(ctx context.Context) (*round.Plan, error) {
		fresh := flags
		if p, _ := fresh.prepare(ctx, env, fs, "serve"); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("%w: see the diagnostics above", round.ErrInvalid)
	}, opts)
	defer svc.ReloadOnHangup(ctx)()
	if _, err := svc.ListenAndRun(ctx, *listen, *webConfig); err != nil {
		log.Error(err.Error())
		return ExitSomeFailed
	}
	return ExitOK
}

// prepare checks the flags of s, loads the configuration, resolves --db
// unless the overlays' storage blocks replace it, and plans the rounds;
// errors are printed under command's name (nil: exit with the code).
func (s *settings) prepare(ctx context.Context, env *Env, fs *flag.FlagSet, command string) (*round.Plan, int) {
	if err := s.check(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, ExitBadConfig
	}
	var err error
	if s.state, err = resolveFlag(env, "state", s.statePath); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, ExitBadConfig
	}
	cfg, ok := s.load(ctx, env, fs, command, round.Files{Inventory: s.configPath, Email: s.emailPath})
	if !ok {
		return nil, ExitBadConfig
	}
	if cfg.Overlay != nil && len(cfg.Overlay.Storages) > 0 {
		if flagGiven(fs, "db") {
			fmt.Fprintf(env.Stderr, "cscs %s: --db is not used: the overlay's storage blocks say where rounds go\n", command)
		}
	} else if err := s.resolveDB(env); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, ExitBadConfig
	}
	return s.plan(env, cfg)
}

// load loads the configuration files of s and the overlays (diagnostics
// go to stderr), lets the overlays' round block replace the defaults of
// the flags not given, and checks the result; errors are printed under
// command's name (false: exit with ExitBadConfig).
func (s *settings) load(ctx context.Context, env *Env, fs *flag.FlagSet, command string, files round.Files) (*round.Config, bool) {
	files.Overlays, files.Vars = s.overlays, s.vars
	cfg, err := round.Load(ctx, files, round.LoadOptions{
		Version: env.Version, PluginsDir: s.pluginsDir(), Env: envLookup(env), Logger: s.pluginLogger(env), Color: isTerminal(env.Stderr),
		Strict: s.strict,
	}, env.Stderr)
	if err != nil {
		return nil, false
	}
	if cfg.Overlay != nil && fs.Lookup("concurrency") != nil {
		s.round.ApplyOverlay(cfg.Overlay.Round, func(setting string) bool {
			return flagGiven(fs, strings.ReplaceAll(setting, "_", "-"))
		})
		if err := s.check(); err != nil {
			fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
			return nil, false
		}
	}
	return cfg, true
}

// loadForRound registers loadFlags and the round flags the command takes
// (roundFlags registers them on fs), parses them and loads config.xml and
// the overlays with the round settings as `cscs run` does; a nil config
// means the command ends with code.
func (s *settings) loadForRound(ctx context.Context, env *Env, command string, roundFlags func(*flag.FlagSet)) (*flag.FlagSet, *round.Config, int) {
	fs := newFlagSet(env, command)
	s.loadFlags(fs, env)
	roundFlags(fs)
	s.outputFlag(fs)
	if ok, code := parse(fs, env); !ok {
		return fs, nil, code
	}
	if err := s.check(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return fs, nil, ExitBadConfig
	}
	cfg, ok := s.load(ctx, env, fs, command, round.Files{Inventory: s.configPath})
	if !ok {
		return fs, nil, ExitBadConfig
	}
	return fs, cfg, ExitOK
}

// plan prepares the rounds of cfg with the settings of s; it prints
// errors and returns nil with an exit code on failure.
func (s *settings) plan(env *Env, cfg *round.Config) (*round.Plan, int) {
	plan, err := round.NewPlan(cfg, s.round, round.Environment{
		Version: env.Version, DataDir: s.dataDir, AgentDir: s.agentDir, PluginsDir: s.pluginsDir(), DB: s.db, State: s.state,
		UseSSHAgent: env.Getenv("SSH_AUTH_SOCK") != "", InProcessPlugins: s.inProcess, Logger: s.pluginLogger(env),
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		if errors.Is(err, round.ErrInvalid) {
			return nil, ExitBadConfig
		}
		return nil, ExitSomeFailed
	}
	if plan.CreatedIdentity {
		fmt.Fprintf(env.Stderr, "created the core key in %s (public key %s)\n", s.dataDir, plan.Identity.Recipient())
	}
	return plan, ExitOK
}

// pluginLogger mirrors the warnings of plugins (and go-plugin's) to
// stderr; -v their info lines too.
func (s *settings) pluginLogger(env *Env) hclog.Logger {
	level := hclog.Warn
	if s.verbose {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{Name: "cscs", Output: env.Stderr, Level: level})
}

// flagGiven reports whether the command line set flag name.
func flagGiven(fs *flag.FlagSet, name string) bool { return fs.Changed(name) }

// printRound prints a round's result and returns its exit code.
func printRound(env *Env, res *round.Result, output string) int {
	if output == "json" {
		if err := writeJSON(env.Stdout, res); err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: writing JSON: %v\n", err)
		}
	} else {
		writeTable(env.Stdout, res.Batch)
		fmt.Fprintln(env.Stdout)
		fmt.Fprintln(env.Stdout, res)
		if res.Stored {
			fmt.Fprintf(env.Stdout, "stored round %s in %s\n", res.Batch.RoundID, res.Storages)
		}
	}
	if !res.OK() {
		return ExitSomeFailed
	}
	return ExitOK
}
