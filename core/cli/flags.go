package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/internal/suggest"
	"github.com/cscs-dev/cscs/core/round"
)

// settings are the flags shared by the commands; each command registers
// the ones it uses.
type settings struct {
	configPath string
	emailPath  string
	dbPath     string
	// db is dbPath with an env: or file: reference resolved (resolveDB).
	db string
	// statePath is --state; state the same resolved.
	statePath, state string
	dataDir          string
	agentDir         string
	output           string
	inProcess        bool
	// round holds the round settings of the flags (roundFlags).
	round round.Settings
	// pluginsDir is set by pluginFlags.
	pluginsDir func() string
	// overlays and vars are --overlay and --var (overlayFlags).
	overlays, vars []string
	// strict makes a plugin that cannot be started an error (validate)
	// instead of leaving it out of the round.
	strict bool
	// quiet and verbose are -q and -v.
	quiet, verbose bool
}

// newFlagSet is the flag set of a command; a command registers its flags
// on it, then parses env.Args with parse (or parseArgs). When the command
// tree is being built (env.describe), parse returns at once: the flags
// are registered, nothing runs.
func newFlagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("cscs "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {}
	env.flags = fs
	return fs
}

func (s *settings) configFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.configPath, "config", "config.xml", "inventory of clients and alert rules")
	fs.StringVar(&s.emailPath, "email-config", "email_config.json", "SMTP sender settings")
}

func (s *settings) dataFlags(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&s.dataDir, "data-dir", defaultDataDir(env), "directory for the core key, known_hosts and state")
}

func (s *settings) dbFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.dbPath, "db", "cscs.db", "database: a SQLite file, or a postgres:// DSN; env:NAME or file:PATH read it from the environment or a file, keeping a password off the process list")
}

// stateFlag registers --state.
func (s *settings) stateFlag(fs *flag.FlagSet) {
	fs.StringVar(&s.statePath, "state", "", "the core's state (alert states, mail outbox, cursors): a SQLite file, or a postgres:// DSN several cores may share, in a schema of its own (search_path=…); default <data-dir>/state.db; env:NAME or file:PATH as for --db")
}

func (s *settings) roundFlags(fs *flag.FlagSet) {
	s.roundSettingFlags(fs)
	r := &s.round
	fs.StringVar(&s.agentDir, "agent-dir", "", "directory holding cscs-agent-<os>-<arch> binaries (default: $CSCS_AGENT_DIR, else agents/ beside cscs, else ../lib/cscs/agents from it, as the package installs them)")
	s.outputFlag(fs)
	s.verbosityFlags(fs)
	fs.DurationVar(&r.MailRetry, "mail-retry-after", 0, "wait before mail that failed temporarily is tried again by a later run (0: 30s doubling up to 1h)")
	fs.StringVar(&r.AuthlogFile, "authlog-file", "", "absolute path, on every Linux host, of a log file the authlog source reads instead of the system's auth log (journald, /var/log/auth.log or /var/log/secure)")
	fs.BoolVar(&s.inProcess, "in-process-plugins", false, "run the built-in plugins inside the core instead of out of process (benchmarks, debugging)")
}

// roundSettingFlags registers the round settings an overlay's round block
// also sets (connectionFlags, --max-uploads, --cpu-sample,
// --alert-repeat, --interval).
func (s *settings) roundSettingFlags(fs *flag.FlagSet) {
	s.connectionFlags(fs)
	d := round.DefaultSettings()
	r := &s.round
	fs.IntVar(&r.MaxUploads, "max-uploads", d.MaxUploads, "hosts receiving the agent over SFTP at the same time (rounds after an agent upgrade, new hosts); lower it on a slow link")
	fs.DurationVar(&r.CPUSample, "cpu-sample", d.CPUSample, "window over which the agent samples CPU usage")
	fs.DurationVar(&r.AlertRepeat, "alert-repeat", d.AlertRepeat, "how often a rule that keeps firing is mailed again; 0 mails every round")
	fs.DurationVar(&r.Interval, "interval", 0, "repeat the round at this interval until stopped (0: one round)")
}

// connectionFlags registers what reaching the hosts takes: how many at
// once, the timeouts, and host keys. The other round settings keep their
// defaults.
func (s *settings) connectionFlags(fs *flag.FlagSet) {
	d := round.DefaultSettings()
	s.round = d
	r := &s.round
	fs.IntVar(&r.Concurrency, "concurrency", d.Concurrency, "hosts collected at the same time")
	fs.IntVar(&r.MaxHandshakes, "max-handshakes", d.MaxHandshakes, "SSH connects and handshakes at the same time (the costly part of a host, for the core and the host), whatever --concurrency is")
	fs.BoolVar(&r.AcceptNewHostKeys, "accept-new-host-keys", false, "record the host key of a host seen for the first time (trust on first use); a changed key is always refused")
	fs.DurationVar(&r.ConnectTimeout, "connect-timeout", d.ConnectTimeout, "TCP connect deadline per host")
	fs.DurationVar(&r.HandshakeTimeout, "handshake-timeout", d.HandshakeTimeout, "SSH handshake and authentication deadline per host")
	fs.DurationVar(&r.HostTimeout, "host-timeout", d.HostTimeout, "deadline for one host from connect to report")
}

// verbosityFlags registers -q and -v.
func (s *settings) verbosityFlags(fs *flag.FlagSet) {
	fs.BoolVarP(&s.quiet, "quiet", "q", false, "print no progress: only problems and the result")
	fs.BoolVarP(&s.verbose, "verbose", "v", false, "print more: every note, and the plugins' log at info level")
}

// outputFlag registers --output (text or json) for a command that
// prints a result.
func (s *settings) outputFlag(fs *flag.FlagSet) {
	fs.StringVar(&s.output, "output", "text", "result format: text or json (see docs/json.md)")
}

// checkOutput refuses an --output other than text and json.
func (s *settings) checkOutput() error {
	if s.output != "text" && s.output != "json" {
		return fmt.Errorf("--output %q: want text or json", s.output)
	}
	return nil
}

// resolveDB reads --db, which may be written env:NAME or file:PATH.
func (s *settings) resolveDB(env *Env) (err error) {
	s.db, err = resolveFlag(env, "db", s.dbPath)
	return err
}

// resolveFlag reads the value of flag name, which may be written env:NAME
// or file:PATH to keep a password off the process list.
func resolveFlag(env *Env, name, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	v, err := config.ParseSecret(value, ".", envLookup(env))
	if err != nil {
		return "", fmt.Errorf("--%s: %w", name, err)
	}
	return v.Reveal(), nil
}

func (s *settings) check() error {
	if err := s.checkOutput(); err != nil {
		return err
	}
	return s.round.Check(func(setting string) string { return "--" + strings.ReplaceAll(setting, "_", "-") })
}

// defaultDataDir is $CSCS_DATA_DIR, else $XDG_STATE_HOME/cscs, else
// ~/.local/state/cscs, else .cscs in the working directory.
func defaultDataDir(env *Env) string {
	if d := env.Getenv("CSCS_DATA_DIR"); d != "" {
		return d
	}
	if d := env.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cscs")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "cscs")
	}
	return ".cscs"
}

// parse parses env.Args for a command that takes no arguments.
func parse(fs *flag.FlagSet, env *Env) (ok bool, code int) {
	_, ok, code = parseArgs(fs, env, 0, 0, "")
	return ok, code
}

// parseOneArg parses env.Args for a command that takes one argument,
// named what in messages; flags may come before or after it.
func parseOneArg(fs *flag.FlagSet, env *Env, what string) (arg string, ok bool, code int) {
	args, ok, code := parseArgs(fs, env, 1, 1, what)
	if !ok {
		return "", false, code
	}
	return args[0], true, ExitOK
}

// parseArgs parses env.Args into fs and returns the arguments, between
// min and max of them (named what in messages). --help prints the
// command's help; a mistyped flag gets a suggestion. ok is false when the
// command ends there, with code.
func parseArgs(fs *flag.FlagSet, env *Env, min, max int, what string) (args []string, ok bool, code int) {
	if env.describe {
		return nil, false, ExitOK
	}
	err := fs.Parse(env.Args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		if env.help != nil {
			env.help()
		}
		return nil, false, ExitOK
	case err != nil:
		fmt.Fprintf(env.Stderr, "%s: %v%s\n", fs.Name(), err, flagSuggestion(fs, err))
		return nil, false, ExitBadConfig
	case fs.NArg() < min:
		fmt.Fprintf(env.Stderr, "%s: missing %s; run `%s --help`\n", fs.Name(), what, fs.Name())
		return nil, false, ExitBadConfig
	case fs.NArg() > max:
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q; run `%s --help`\n", fs.Name(), fs.Arg(max), fs.Name())
		return nil, false, ExitBadConfig
	}
	return fs.Args(), true, ExitOK
}

// flagSuggestion is "; did you mean --x?" for an unknown flag close to a
// flag of fs, else "".
func flagSuggestion(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	name, found := strings.CutPrefix(msg, "unknown flag: --")
	if !found {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if c := suggest.Closest(name, names); c != "" {
		return "; did you mean --" + c + "?"
	}
	return ""
}

// envLookup is os.LookupEnv through env.Getenv: an empty variable counts
// as unset.
func envLookup(env *Env) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v := env.Getenv(name)
		return v, v != ""
	}
}

// pluginFlags registers --plugins-dir. Register dataFlags as well:
// s.pluginsDir (also returned) gives the plugins directory once fs is
// parsed, which is --plugins-dir when set and <data-dir>/plugins
// otherwise.
func (s *settings) pluginFlags(fs *flag.FlagSet) (pluginsDir func() string) {
	dir := fs.String("plugins-dir", "", "directory of external plugins and their manifest.json (default <data-dir>/plugins)")
	s.pluginsDir = func() string {
		if *dir != "" {
			return *dir
		}
		return filepath.Join(s.dataDir, "plugins")
	}
	return s.pluginsDir
}

// loadFlags registers the flags that say which configuration a command
// loads: --config, --email-config, --data-dir, --plugins-dir, --overlay
// and --var.
func (s *settings) loadFlags(fs *flag.FlagSet, env *Env) {
	s.configFlags(fs)
	s.dataFlags(fs, env)
	s.pluginFlags(fs)
	s.overlayFlags(fs)
}

// overlayFlags registers --overlay and --var.
func (s *settings) overlayFlags(fs *flag.FlagSet) {
	fs.StringArrayVar(&s.overlays, "overlay", nil, "HCL overlay file, or directory of *.hcl files, layered over config.xml; repeatable, a later one wins (see docs/overlay.md)")
	fs.StringArrayVar(&s.vars, "var", nil, "NAME=VALUE sets an overlay variable; repeatable")
}
