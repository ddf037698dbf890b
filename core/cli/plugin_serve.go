package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cscs-dev/cscs/plugins"
)

// builtinServer serves the plugins compiled into cscs.
type builtinServer interface {
	// Builtins lists the built-in plugins, versioned as the core.
	Builtins(version string) []builtinPlugin
	// Serve serves the built-in plugin kind/name, made for the core's
	// version, over the plugin protocol until the host ends it.
	Serve(ctx context.Context, kind, name, version string) error
	// ServeSources serves every built-in source from one process, with
	// the built-in storage and notifier beside names.
	ServeSources(ctx context.Context, beside plugins.Beside, version string) error
}

// pluginServeCommand is the hidden `cscs plugin serve <kind> <name>`: the
// core re-executes itself with it to run a built-in plugin out of process,
// through exactly the SDK an external plugin uses. `cscs plugin serve
// [--storage NAME] [--notifier NAME] sources` serves every built-in source
// from one process (with the round's storage and the notifier of its mail
// when they are built-ins), which is how a round runs them.
func pluginServeCommand(ctx context.Context, env *Env) int {
	return servePlugin(ctx, env, sdkBuiltinServer{})
}

func servePlugin(ctx context.Context, env *Env, srv builtinServer) int {
	fs := newFlagSet(env, "plugin serve")
	storageName := fs.String("storage", "", "with `sources`: serve this built-in storage too")
	notifierName := fs.String("notifier", "", "with `sources`: serve this built-in notifier too")
	if _, ok, code := parseArgs(fs, env, 0, 2, ""); !ok {
		return code
	}
	builtins := srv.Builtins(env.Version)
	if fs.NArg() == 1 && fs.Arg(0) == "sources" {
		beside := plugins.Beside{Storage: *storageName, Notifier: *notifierName}
		for _, b := range []struct{ kind, name string }{{plugins.KindStorage, beside.Storage}, {plugins.KindNotifier, beside.Notifier}} {
			if b.name != "" && !slices.ContainsFunc(builtins, func(p builtinPlugin) bool { return p.kind == b.kind && p.name == b.name }) {
				fmt.Fprintf(env.Stderr, "cscs plugin serve: no built-in %s plugin %q; built-in plugins: %s\n", b.kind, b.name, builtinNames(builtins))
				return ExitBadConfig
			}
		}
		if err := srv.ServeSources(ctx, beside, env.Version); err != nil {
			fmt.Fprintf(env.Stderr, "cscs plugin serve sources: %v\n", err)
			return ExitSomeFailed
		}
		return ExitOK
	}
	if *storageName != "" || *notifierName != "" {
		fmt.Fprintln(env.Stderr, "cscs plugin serve: --storage and --notifier go with `sources` only")
		return ExitBadConfig
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(env.Stderr, "cscs plugin serve: want <kind> <name> or `sources`, got %d arguments; built-in plugins: %s\n", fs.NArg(), builtinNames(builtins))
		return ExitBadConfig
	}
	kind, name := fs.Arg(0), fs.Arg(1)
	found := false
	for _, b := range builtins {
		if b.kind == kind && b.name == name {
			found = true
			break
		}
	}
	if !found {
		fmt.Fprintf(env.Stderr, "cscs plugin serve: no built-in %s plugin %q; built-in plugins: %s\n", kind, name, builtinNames(builtins))
		return ExitBadConfig
	}
	if err := srv.Serve(ctx, kind, name, env.Version); err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugin serve %s %s: %v\n", kind, name, err)
		return ExitSomeFailed
	}
	return ExitOK
}

// builtinNames is "source cpu, storage sqlite, ...", or "none".
func builtinNames(builtins []builtinPlugin) string {
	if len(builtins) == 0 {
		return "none"
	}
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.kind + " " + b.name
	}
	return strings.Join(names, ", ")
}
