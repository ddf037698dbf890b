package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cscs-dev/cscs/core/agentstore"
	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/collect"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/engine"
)

// settings are the flags shared by the commands; each command registers
// the ones it uses.
type settings struct {
	// authlogFile, when set, is read by every Linux host's authlog module
	// instead of the system's auth log.
	authlogFile string
	configPath  string
	emailPath   string
	dbPath      string
	// db is dbPath with an env: or file: reference resolved (resolveDB).
	db          string
	dataDir     string
	agentDir    string
	output      string
	concurrency int
	handshakes  int
	uploads     int
	acceptNew   bool
	connectTO   time.Duration
	handshakeTO time.Duration
	hostTO      time.Duration
	cpuSample   time.Duration
	inProcess   bool
	alertRepeat time.Duration
	mailRetry   time.Duration
	// pluginsDir is set by pluginFlags.
	pluginsDir func() string
	// overlays and vars are --overlay and --var (overlayFlags).
	overlays, vars listFlag
	// interval, when set, repeats rounds until cscs is stopped.
	interval time.Duration
}

func newFlagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("cscs "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
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

func (s *settings) roundFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.agentDir, "agent-dir", "", "directory holding cscs-agent-<os>-<arch> binaries (default: $CSCS_AGENT_DIR, else agents/ beside cscs)")
	fs.StringVar(&s.output, "output", "text", "result format: text or json")
	fs.IntVar(&s.concurrency, "concurrency", engine.DefaultConcurrency, "hosts collected at the same time")
	fs.IntVar(&s.handshakes, "max-handshakes", collect.DefaultMaxHandshakes, "SSH connects and handshakes at the same time (the costly part of a host, for the core and the host), whatever --concurrency is")
	fs.IntVar(&s.uploads, "max-uploads", collect.DefaultMaxUploads, "hosts receiving the agent over SFTP at the same time (rounds after an agent upgrade, new hosts); lower it on a slow link")
	fs.BoolVar(&s.acceptNew, "accept-new-host-keys", false, "record the host key of a host seen for the first time (trust on first use); a changed key is always refused")
	fs.DurationVar(&s.connectTO, "connect-timeout", 5*time.Second, "TCP connect deadline per host")
	fs.DurationVar(&s.handshakeTO, "handshake-timeout", 10*time.Second, "SSH handshake and authentication deadline per host")
	fs.DurationVar(&s.hostTO, "host-timeout", 60*time.Second, "deadline for one host from connect to report")
	fs.DurationVar(&s.cpuSample, "cpu-sample", time.Second, "window over which the agent samples CPU usage")
	fs.DurationVar(&s.alertRepeat, "alert-repeat", alert.DefaultRepeat, "how often a rule that keeps firing is mailed again; 0 mails every round")
	fs.DurationVar(&s.mailRetry, "mail-retry-after", 0, "wait before mail that failed temporarily is tried again by a later run (0: 30s doubling up to 1h)")
	fs.StringVar(&s.authlogFile, "authlog-file", "", "absolute path, on every Linux host, of a log file the authlog source reads instead of the system's auth log (journald, /var/log/auth.log or /var/log/secure)")
	fs.DurationVar(&s.interval, "interval", 0, "repeat the round at this interval until stopped (0: one round)")
	fs.BoolVar(&s.inProcess, "in-process-plugins", false, "run the built-in plugins inside the core instead of out of process (benchmarks, debugging)")
}

// resolveDB reads --db, which may be written env:NAME or file:PATH.
func (s *settings) resolveDB(env *Env) error {
	v, err := config.ParseSecret(s.dbPath, ".", envLookup(env))
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	s.db = v.Reveal()
	return nil
}

func (s *settings) check() error {
	if s.output != "text" && s.output != "json" {
		return fmt.Errorf("--output %q: want text or json", s.output)
	}
	if s.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: want 1 or more", s.concurrency)
	}
	if s.handshakes < 1 {
		return fmt.Errorf("--max-handshakes %d: want 1 or more", s.handshakes)
	}
	if s.uploads < 1 {
		return fmt.Errorf("--max-uploads %d: want 1 or more", s.uploads)
	}
	for name, d := range map[string]time.Duration{"--connect-timeout": s.connectTO, "--handshake-timeout": s.handshakeTO, "--host-timeout": s.hostTO} {
		if d <= 0 {
			return fmt.Errorf("%s %s: want a positive duration such as 10s", name, d)
		}
	}
	if s.mailRetry < 0 {
		return fmt.Errorf("--mail-retry-after %s: want a positive duration such as 5m", s.mailRetry)
	}
	if s.alertRepeat < 0 {
		return fmt.Errorf("--alert-repeat %s: want 0 (every round) or a positive duration such as 4h", s.alertRepeat)
	}
	if s.interval < 0 {
		return fmt.Errorf("--interval %s: want 0 (one round) or a positive duration such as 5m", s.interval)
	}
	if s.cpuSample < 0 || s.cpuSample > time.Minute {
		return fmt.Errorf("--cpu-sample %s: want a duration between 0 and 1m", s.cpuSample)
	}
	return nil
}

func (s *settings) agents() *agentstore.Store {
	if s.agentDir != "" {
		return agentstore.New(s.agentDir)
	}
	return agentstore.New(agentstore.DefaultDir())
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

// parse parses args and reports a usage error the way every command does.
func parse(fs *flag.FlagSet, env *Env) (ok bool, code int) {
	if err := fs.Parse(env.Args); err != nil {
		if err == flag.ErrHelp {
			return false, ExitOK
		}
		return false, ExitBadConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false, ExitBadConfig
	}
	return true, ExitOK
}
