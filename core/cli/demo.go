package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/round"
)

// demoCommand runs the embedded default: an in-process SSH fleet on
// loopback addresses (real SSH protocol, SFTP and commands), a generated
// config.xml, a fresh core key and known_hosts, a local mail sink and an
// SQLite database (package demo), and one real round against them.
func demoCommand(ctx context.Context, env *Env) int {
	var (
		s     settings
		hosts int
		dir   string
	)
	fs := newFlagSet(env, "demo")
	fs.IntVar(&hosts, "hosts", 5, "number of in-process SSH hosts")
	fs.StringVar(&dir, "dir", "", "directory for the demo's config, keys and database (default: a new temporary directory)")
	keep := fs.Bool("keep", false, "keep the fleet and the mail sink up after the round, until Ctrl-C, and print the command line that reaches them (to try a plugin or an overlay on the demo fleet)")
	pluginsDir := fs.String("plugins-dir", "", "directory of external plugins and their manifest.json (default <dir>/data/plugins)")
	s.roundFlags(fs)
	s.overlayFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if s.round.CPUSample == time.Second {
		s.round.CPUSample = 500 * time.Millisecond
	}
	if err := s.check(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs demo: %v\n", err)
		return ExitBadConfig
	}
	if hosts < 1 || hosts > 5000 {
		fmt.Fprintf(env.Stderr, "cscs demo: --hosts %d: want 1..5000\n", hosts)
		return ExitBadConfig
	}
	d, err := demo.Start(ctx, demo.Options{Dir: dir, Hosts: hosts, User: currentUser(env)})
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs demo: %v\n", err)
		return ExitSomeFailed
	}
	defer d.Close()
	// With --output json, stdout is the round's JSON alone.
	info := env.Stdout
	if s.output == "json" {
		info = env.Stderr
	}
	s.configPath, s.emailPath, s.dataDir, s.dbPath, s.db = d.Inventory, d.Email, d.DataDir, d.DB, d.DB
	s.pluginsDir = func() string { return filepath.Join(d.DataDir, "plugins") }
	if *pluginsDir != "" {
		s.pluginsDir = func() string { return *pluginsDir }
	}
	fmt.Fprintf(info, "demo: %d in-process SSH hosts on loopback (%s ...), user %s\n",
		hosts, d.Fleet.Hosts()[0].IP, currentUser(env))
	fmt.Fprintf(info, "demo: config %s, data dir %s\n\n", s.configPath, s.dataDir)

	cfg, ok := s.load(ctx, env, fs, "demo", round.Files{Inventory: s.configPath, Email: s.emailPath})
	if !ok {
		return ExitBadConfig
	}
	plan, code := s.plan(env, cfg)
	if plan == nil {
		return code
	}
	code = printRound(env, round.Run(ctx, plan, s.progress(env)), s.output)
	fmt.Fprintf(info, "\n%d mail(s) (alerts and event logs) went to the local mail sink: %s\n", d.Sink.Count(), d.Sink.Dir)
	if code == ExitOK {
		fmt.Fprintf(info, "\nthe data is in %s; for example:\n  sqlite3 %s 'SELECT * FROM latest_stats'\n", s.dbPath, s.dbPath)
	}
	if !*keep {
		fmt.Fprintln(info, "\nthe fleet and the mail sink are gone now that the demo ended; `cscs demo --keep` keeps them up and prints the command line that reaches them")
		return code
	}
	fmt.Fprintf(info, "\nthe fleet and the mail sink stay up until Ctrl-C; run a round against them with:\n  %s\n", strings.Join(s.runCommand(), " "))
	<-ctx.Done()
	return code
}

// runCommand is the `cscs run` command line, quoted for a shell, that
// collects from the demo's fleet as the demo did.
func (s *settings) runCommand() []string {
	args := []string{"cscs", "run", "--config", s.configPath, "--email-config", s.emailPath, "--data-dir", s.dataDir, "--db", s.dbPath,
		"--plugins-dir", s.pluginsDir()}
	if s.agentDir != "" {
		args = append(args, "--agent-dir", s.agentDir)
	}
	for _, o := range s.overlays {
		args = append(args, "--overlay", o)
	}
	for _, v := range s.vars {
		args = append(args, "--var", v)
	}
	for i, a := range args {
		if strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:@") != "" {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'" // for a POSIX shell
		}
	}
	return args
}

func currentUser(env *Env) string {
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if u := env.Getenv(k); u != "" {
			return u
		}
	}
	return "demo"
}
