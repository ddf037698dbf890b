package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/scaffold"
)

// pluginsNewCommand writes a new plugin module: `cscs plugins new KIND
// NAME [DIR]`.
func pluginsNewCommand(_ context.Context, env *Env) int {
	fs := newFlagSet(env, "plugins new")
	module := fs.String("module", "", "the new module's path (default example.com/cscs-KIND-NAME)")
	sdkDir := fs.String("sdk", "", "a local copy of the SDK module to use (a replace directive), to develop against an unreleased SDK")
	args, ok, code := parseArgs(fs, env, 2, 3, "KIND NAME (KIND one of "+strings.Join(scaffold.Kinds(), ", ")+"), such as `cscs plugins new source disk_usage`")
	if !ok {
		return code
	}
	kind, name := args[0], args[1]
	dir := "cscs-" + kind + "-" + strings.ReplaceAll(name, "_", "-")
	if len(args) == 3 {
		dir = args[2]
	}
	opts := scaffold.Options{Kind: kind, Name: name, Module: *module, SDKDir: *sdkDir}
	if opts.SDKDir != "" {
		abs, err := filepath.Abs(opts.SDKDir)
		if err != nil {
			fmt.Fprintf(env.Stderr, "cscs plugins new: --sdk: %v\n", err)
			return ExitBadConfig
		}
		opts.SDKDir = abs
	}
	files, err := scaffold.New(dir, opts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins new: %v\n", err)
		return ExitBadConfig
	}
	fmt.Fprintf(env.Stdout, "wrote the %s plugin %s in %s: %s\n", kind, name, dir, strings.Join(files, ", "))
	fmt.Fprintf(env.Stdout, "next: cd %s && make test && make install\n", dir)
	return ExitOK
}

// pluginsRemoveCommand is `cscs plugins remove [--kind KIND] NAME`: the
// plugin leaves the manifest, and its binary the plugins directory once
// no other plugin uses it.
func pluginsRemoveCommand(_ context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "plugins remove")
	s.dataFlags(fs, env)
	pluginsDir := s.pluginFlags(fs)
	kind := fs.String("kind", "", "the kind to remove, when NAME is installed as several (source, storage or notifier)")
	name, ok, code := parseOneArg(fs, env, "NAME")
	if !ok {
		return code
	}
	m, err := pluginhost.LoadManifest(pluginsDir())
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins remove: %v\n", err)
		return ExitSomeFailed
	}
	removed, err := pluginhost.Uninstall(m, *kind, name)
	for _, e := range removed {
		fmt.Fprintf(env.Stdout, "removed %s %s\n", e, e.Version)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins remove: %v\n", err)
		if len(removed) == 0 {
			return ExitBadConfig
		}
		return ExitSomeFailed
	}
	return ExitOK
}
