package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/pluginhost"
)

// pluginDescriber starts a plugin binary and reports what it serves.
type pluginDescriber = pluginhost.Describer

// builtinPlugin is one plugin compiled into cscs, as `plugins list` shows it.
type builtinPlugin struct {
	kind, name, version string
	protocol            int
}

// defaultDescribeTimeout bounds starting a plugin and asking what it is.
const defaultDescribeTimeout = 30 * time.Second

func pluginsInstallCommand(ctx context.Context, env *Env) int {
	// The plugin's log (and go-plugin's) goes to stderr at the level asked
	// ("off": nothing; a failed start still quotes its last error line).
	return installPlugin(ctx, env, func(level string) pluginDescriber {
		return pluginhost.Launcher{Logger: hclog.New(&hclog.LoggerOptions{Name: "cscs", Level: hclog.LevelFromString(level), Output: env.Stderr})}
	}, sdkBuiltinServer{}.Builtins(env.Version))
}

func pluginsListCommand(_ context.Context, env *Env) int {
	return listPlugins(env, sdkBuiltinServer{}.Builtins(env.Version))
}

// installPlugin is `cscs plugins install PATH`: it copies PATH into the
// plugins directory under a content-addressed name, starts the copy to
// learn what it serves, and records one manifest entry per kind. When the
// binary does not start or answer, nothing is installed.
func installPlugin(ctx context.Context, env *Env, newDescriber func(logLevel string) pluginDescriber, builtins []builtinPlugin) int {
	var s settings
	fs := newFlagSet(env, "plugins install")
	s.dataFlags(fs, env)
	pluginsDir := s.pluginFlags(fs)
	timeout := fs.Duration("timeout", defaultDescribeTimeout, "deadline for starting the plugin and asking what it serves")
	logLevel := fs.String("log-level", "off", "show the plugin's log (and the plugin host's) at this level on stderr: trace, debug, info, warn, error or off")
	dev := fs.Bool("dev", false, "install for development: run PATH where it is, unpinned, so each rebuild takes effect (validate --strict refuses it)")
	src, ok, code := parseOneArg(fs, env, "PATH")
	if !ok {
		return code
	}
	if *timeout <= 0 {
		fmt.Fprintf(env.Stderr, "cscs plugins install: --timeout %s: want a positive duration such as 30s\n", *timeout)
		return ExitBadConfig
	}
	if hclog.LevelFromString(*logLevel) == hclog.NoLevel {
		fmt.Fprintf(env.Stderr, "cscs plugins install: --log-level %q: want trace, debug, info, warn, error or off\n", *logLevel)
		return ExitBadConfig
	}
	info, err := os.Stat(src)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %v\n", err)
		return ExitBadConfig
	}
	if !info.Mode().IsRegular() {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %s is not a regular file; give the path of a plugin binary\n", src)
		return ExitBadConfig
	}
	dir := pluginsDir()
	m, err := pluginhost.LoadManifest(dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %v\n", err)
		return ExitSomeFailed
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	install := pluginhost.Install
	if *dev {
		install = pluginhost.InstallDev
	}
	installed, err := install(ctx, m, src, newDescriber(*logLevel), time.Now().UTC().Truncate(time.Second))
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %v\n", err)
		return ExitSomeFailed
	}
	for _, r := range installed {
		fmt.Fprintln(env.Stdout, r.Describe(dir))
		for _, b := range builtins {
			if b.kind == r.Now.Kind && b.name == r.Now.Name {
				fmt.Fprintf(env.Stderr, "note: %s is also built into cscs\n", r.Now)
			}
		}
	}
	return ExitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// pluginRow is one line of `plugins list`.
type pluginRow = pluginhost.InventoryRow

// listPlugins is `cscs plugins list`: built-ins first, then the manifest's
// entries, each external one checked against its pinned checksum. It
// exits 1 when an external plugin's file is missing or changed.
func listPlugins(env *Env, builtins []builtinPlugin) int {
	var s settings
	fs := newFlagSet(env, "plugins list")
	s.dataFlags(fs, env)
	pluginsDir := s.pluginFlags(fs)
	fs.StringVar(&s.output, "output", "text", "format: text or json")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if s.output != "text" && s.output != "json" {
		fmt.Fprintf(env.Stderr, "cscs plugins list: --output %q: want text or json\n", s.output)
		return ExitBadConfig
	}
	dir := pluginsDir()
	m, err := pluginhost.LoadManifest(dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins list: %v\n", err)
		return ExitSomeFailed
	}
	inv := m.Inventory(builtinRows(builtins))
	rows := inv.Plugins
	if s.output == "json" {
		if err := writeJSONValue(env.Stdout, inv); err != nil {
			fmt.Fprintf(env.Stderr, "cscs plugins list: %v\n", err)
			return ExitSomeFailed
		}
	} else {
		writePluginTable(env.Stdout, rows)
	}
	code := ExitOK
	for _, r := range rows {
		if r.Status != pluginhost.StatusOK && r.Status != pluginhost.StatusDev {
			fmt.Fprintf(env.Stderr, "cscs plugins list: %s\n", r.Error)
			code = ExitSomeFailed
		}
	}
	return code
}

// builtinRows are the built-ins as plugins list shows them.
func builtinRows(builtins []builtinPlugin) []pluginRow {
	rows := make([]pluginRow, len(builtins))
	for i, b := range builtins {
		rows[i] = pluginRow{Kind: b.kind, Name: b.name, Version: b.version, Protocol: b.protocol, Source: "builtin", Status: pluginhost.StatusOK}
	}
	return rows
}

func writePluginTable(w io.Writer, rows []pluginRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPROTOCOL\tSHA256\tSOURCE\tSTATUS")
	for _, r := range rows {
		sum := "-"
		if len(r.SHA256) >= 12 {
			sum = r.SHA256[:12]
		}
		source := r.Source
		if r.Member != "" {
			source += " (as " + r.Member + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Kind, r.Name, orDash(r.Version), r.Protocol, sum, source, r.Status)
	}
	_ = tw.Flush()
}
