// Package cli is the cscs command line: one file per command, a table of
// commands, and named exit codes. Nothing here calls os.Exit; Main returns
// the code for the caller (core/cmd/cscs) to exit with.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes of every cscs command.
const (
	// ExitOK: the command succeeded (for run: every host was collected).
	ExitOK = 0
	// ExitSomeFailed: the command ran but some hosts failed, or a
	// non-configuration error happened.
	ExitSomeFailed = 1
	// ExitBadConfig: the configuration or the command line is invalid.
	ExitBadConfig = 2
)

// Env is what a command receives: its arguments and where to write.
type Env struct {
	Args    []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
}

type command struct {
	name  string // "run", "db init"
	short string
	run   func(ctx context.Context, env *Env) int
	// hidden commands are not listed by help (cscs runs them itself).
	hidden bool
}

func commands() []command {
	return []command{
		{name: "run", short: "collect one round from every client in config.xml and store it", run: runCommand},
		{name: "validate", short: "load and check config.xml, email_config.json and overlays; print diagnostics", run: validateCommand},
		{name: "config show", short: "print the effective configuration (config.xml, overlays, flags) with secrets masked", run: configShowCommand},
		{name: "db init", short: "create or upgrade the database schema (--db, or the overlays' storage blocks)", run: dbInitCommand},
		{name: "db prune", short: "delete collections older than --older-than (each host's latest ok one is kept)", run: dbPruneCommand},
		{name: "keys show", short: "print the core's public key (created on first use)", run: keysShowCommand},
		{name: "hosts check", short: "connect, authenticate, verify host keys and detect platforms; collect nothing", run: hostsCheckCommand},
		{name: "demo", short: "one real round against an in-process SSH fleet on loopback", run: demoCommand},
		{name: "plugins install", short: "copy a plugin binary into the plugins directory, pinned by checksum", run: pluginsInstallCommand},
		{name: "plugins new", short: "write a new plugin module (source, storage or notifier) that builds and passes its tests", run: pluginsNewCommand},
		{name: "plugins remove", short: "remove an installed plugin (--kind when the name has several)", run: pluginsRemoveCommand},
		{name: "plugins list", short: "list built-in and installed plugins and check installed ones", run: pluginsListCommand},
		{name: "spool list", short: "list the rounds that wait in the spool, by storage, with the oldest", run: spoolListCommand},
		{name: "spool replay", short: "store the rounds of a spool in a storage of the configuration (--to)", run: spoolReplayCommand},
		{name: "spool drop", short: "delete the rounds that wait in a spool", run: spoolDropCommand},
		{name: "mail test", short: "send a test mail with the SMTP settings in email_config.json", run: mailTestCommand},
		{name: "plugin serve", short: "serve a built-in plugin; cscs starts it itself", run: pluginServeCommand, hidden: true},
		{name: "serve", short: "run rounds every --interval until stopped, with status pages, /healthz, /readyz and /metrics on --listen", run: serveCommand},
		{name: "version", short: "print the version", run: versionCommand},
	}
}

// Main runs the command named by args (without the program name).
func Main(ctx context.Context, args []string, version string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return ExitBadConfig
		}
		return ExitOK
	}
	// Longest match first, so "db init" wins over a hypothetical "db".
	sort.Slice(cmds, func(i, j int) bool { return len(cmds[i].name) > len(cmds[j].name) })
	for _, c := range cmds {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			env := &Env{Args: args[len(words):], Stdin: stdin, Stdout: stdout, Stderr: stderr, Version: version, Getenv: os.Getenv}
			return c.run(ctx, env)
		}
	}
	fmt.Fprintf(stderr, "cscs: unknown command %q; run `cscs help` for the list\n", strings.Join(args, " "))
	return ExitBadConfig
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "cscs collects machine statistics from hosts over SSH.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: cscs <command> [flags]   (cscs <command> -h for its flags)")
	fmt.Fprintln(w)
	for _, c := range cmds {
		if !c.hidden {
			fmt.Fprintf(w, "  %-16s %s\n", c.name, c.short)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit status: 0 ok, 1 some hosts failed, 2 bad configuration or usage.")
}

func versionCommand(_ context.Context, env *Env) int {
	fmt.Fprintf(env.Stdout, "cscs %s\n", env.Version)
	return ExitOK
}
