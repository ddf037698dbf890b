// Package cli is the cscs command line: one file per command, a table of
// commands, and named exit codes. Nothing here calls os.Exit; Main returns
// the code for the caller (core/cmd/cscs) to exit with.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/internal/suggest"
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

	// describe is set while the command tree is built: a command
	// registers its flags on its flag set (kept in flags) and returns
	// before parsing (see parseArgs).
	describe bool
	flags    *flag.FlagSet
	// help prints the command's help (--help).
	help func()
}

// command is one cscs command: its words ("db init"), its arguments as
// help shows them, its help texts, and the function that registers its
// flags and runs it.
type command struct {
	name    string // "run", "db init"
	args    string // "PATH", "KIND NAME [DIR]"; "" for none
	short   string
	long    string
	example string
	run     func(ctx context.Context, env *Env) int
	// hidden commands are not listed by help (cscs runs them itself).
	hidden bool
}

func commands() []command {
	return []command{
		{name: "run", short: "collect one round from every client in config.xml and store it", run: runCommand,
			long: "Collects one round from every client of config.xml (with --interval, a round every interval until stopped), evaluates the alert rules, " +
				"stores the round in --db (or the overlays' storage blocks) and sends the mail. Exit status 0 when every host is ok, 1 when some work failed, 2 for a bad configuration.",
			example: "  cscs run --config /etc/cscs/config.xml --db /var/lib/cscs/cscs.db\n  cscs run --db env:CSCS_DSN --overlay /etc/cscs/overlay.d --output json"},
		{name: "validate", short: "load and check config.xml, email_config.json and overlays; print diagnostics", run: validateCommand,
			example: "  cscs validate --config config.xml --email-config email_config.json\n  cscs validate --overlay overlay.hcl --strict"},
		{name: "config show", short: "print the effective configuration (config.xml, overlays, flags) with secrets masked", run: configShowCommand},
		{name: "db init", short: "create or upgrade the database schema (--db, or the overlays' storage blocks)", run: dbInitCommand,
			example: "  cscs db init --db postgres://cscs@db.example/cscs"},
		{name: "db prune", short: "delete what is older than --older-than: collections (each host's latest ok one kept), events, sent mail records, resolved alert states; --dry-run counts them", run: dbPruneCommand,
			example: "  cscs db prune --db cscs.db --older-than 90d --dry-run\n  cscs db prune --db cscs.db --older-than 90d"},
		{name: "keys show", short: "print the core's public key (created on first use)", run: keysShowCommand},
		{name: "hosts check", short: "connect, authenticate, verify host keys and detect platforms; collect nothing", run: hostsCheckCommand},
		{name: "demo", short: "one real round against an in-process SSH fleet on loopback", run: demoCommand,
			example: "  cscs demo\n  cscs demo --keep --overlay my.hcl --plugins-dir ./plugins"},
		{name: "plugins install", args: "PATH", short: "copy a plugin binary into the plugins directory, pinned by checksum", run: pluginsInstallCommand,
			example: "  cscs plugins install ./cscs-storage-archive\n  cscs plugins install --dev ./cscs-storage-archive"},
		{name: "plugins new", args: "KIND NAME [DIR]", short: "write a new plugin module (source, storage or notifier) that builds and passes its tests", run: pluginsNewCommand,
			example: "  cscs plugins new source disk_usage\n  cscs plugins new notifier pager ./pager --module git.example/ops/pager"},
		{name: "plugins remove", args: "NAME", short: "remove an installed plugin (--kind when the name has several)", run: pluginsRemoveCommand},
		{name: "plugins list", short: "list built-in and installed plugins and check installed ones", run: pluginsListCommand},
		{name: "spool list", short: "list the rounds that wait in the spool, by storage, with the oldest", run: spoolListCommand},
		{name: "spool replay", args: "SPOOL", short: "store the rounds of a spool in a storage of the configuration (--to)", run: spoolReplayCommand,
			example: "  cscs spool replay postgres-1a2b3c4d5e6f --db postgres://cscs@db.example/cscs"},
		{name: "spool drop", args: "SPOOL", short: "delete the rounds that wait in a spool", run: spoolDropCommand},
		{name: "mail test", short: "send a test mail with the SMTP settings in email_config.json", run: mailTestCommand,
			example: "  cscs mail test --to ops@example.com --email-config /etc/cscs/email_config.json"},
		{name: "plugin serve", args: "KIND NAME | sources", short: "serve a built-in plugin; cscs starts it itself", run: pluginServeCommand, hidden: true},
		{name: "serve", short: "run rounds every --interval until stopped, with status pages, /healthz, /readyz and /metrics on --listen", run: serveCommand,
			example: "  cscs serve --config /etc/cscs/config.xml --db /var/lib/cscs/cscs.db --interval 5m"},
		{name: "version", short: "print the version", run: versionCommand},
	}
}

// Main runs the command named by args (without the program name).
func Main(ctx context.Context, args []string, version string, stdin io.Reader, stdout, stderr io.Writer) int {
	code := ExitOK
	root := commandTree(func(c command, cmd *cobra.Command, args []string) {
		env := &Env{Args: args, Stdin: stdin, Stdout: stdout, Stderr: stderr, Version: version, Getenv: os.Getenv,
			help: func() { _ = cmd.Help() }}
		code = c.run(cmd.Context(), env)
	}, version, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) == 0 {
		_ = root.Help()
		return ExitBadConfig
	}
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "cscs: %v\n", err)
		return ExitBadConfig
	}
	return code
}

// commandTree builds the cobra commands of commands(): each command
// registers its flags once (for help and completion), and parses them
// itself when it runs (exec). Groups ("db", "plugins") only dispatch; a
// mistyped command gets a suggestion.
func commandTree(exec func(c command, cmd *cobra.Command, args []string), version string, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "cscs",
		Short: "cscs collects machine statistics from hosts over SSH",
		Long: "cscs collects machine statistics from hosts over SSH, with no resident agent, stores them in a database and mails alerts.\n\n" +
			"Exit status: 0 ok, 1 some work failed (hosts, storage, mail, plugins), 2 bad configuration or usage.",
		Version:            version,
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableSuggestions: true, // unknownCommand suggests, with the one suggestion helper
		Args:               unknownCommand,
		RunE:               func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetVersionTemplate("cscs {{.Version}}\n")
	root.Flags().Bool("version", false, "print the version") // no -v: it is left for a future --verbose
	groups := map[string]*cobra.Command{}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		parent := root
		if len(words) == 2 {
			g, ok := groups[words[0]]
			if !ok {
				g = &cobra.Command{Use: words[0], Args: unknownCommand,
					RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
				groups[words[0]] = g
				root.AddCommand(g)
			}
			parent = g
		}
		use := words[len(words)-1]
		if c.args != "" {
			use += " " + c.args
		}
		cmd := &cobra.Command{Use: use, Short: c.short, Long: c.long, Example: c.example, Hidden: c.hidden,
			DisableFlagParsing: true, // the command parses its own flags (parseArgs)
			Run:                func(cmd *cobra.Command, args []string) { exec(c, cmd, args) },
		}
		if cmd.Long == "" {
			cmd.Long = strings.ToUpper(c.short[:1]) + c.short[1:] + "."
		}
		// Register the flags once, for help and completion.
		describe := &Env{describe: true, Stdout: io.Discard, Stderr: stderr, Getenv: os.Getenv, Version: version}
		c.run(context.Background(), describe)
		if describe.flags != nil {
			cmd.Flags().AddFlagSet(describe.flags)
		}
		parent.AddCommand(cmd)
	}
	for _, g := range groups {
		allHidden := true
		var subs []string
		for _, sub := range g.Commands() {
			allHidden = allHidden && sub.Hidden
			subs = append(subs, sub.Name())
		}
		g.Hidden = allHidden
		g.Short = g.Name() + " " + strings.Join(subs, ", ")
	}
	return root
}

// unknownCommand refuses arguments to a command that only dispatches,
// suggesting the closest command.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, sub := range cmd.Commands() {
		if !sub.Hidden {
			names = append(names, sub.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q", strings.TrimSpace(cmd.CommandPath()+" "+args[0]))
	if c := suggest.Closest(args[0], names); c != "" {
		msg += "; did you mean " + strings.TrimPrefix(cmd.CommandPath()+" ", "cscs ") + c + "?"
	}
	return fmt.Errorf("%s; run `%s --help` for the list", msg, cmd.CommandPath())
}

func versionCommand(_ context.Context, env *Env) int {
	fs := newFlagSet(env, "version")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	fmt.Fprintf(env.Stdout, "cscs %s\n", env.Version)
	return ExitOK
}
