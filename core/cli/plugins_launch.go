package cli

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/plugins"
)

// launchDescriber learns what a plugin binary serves by launching it with
// the plugin host, as a round would.
type launchDescriber struct {
	logger hclog.Logger
}

var _ pluginDescriber = launchDescriber{}

// newLaunchDescriber mirrors the plugin's log (and go-plugin's) to the
// command's stderr at level ("off" shows nothing; the error of a failed
// start still quotes the plugin's last error line).
func newLaunchDescriber(env *Env, level string) launchDescriber {
	return launchDescriber{logger: hclog.New(&hclog.LoggerOptions{
		Name:   "cscs",
		Level:  hclog.LevelFromString(level),
		Output: env.Stderr,
	})}
}

func (d launchDescriber) Describe(ctx context.Context, path, sum, name string) ([]pluginhost.Entry, error) {
	return pluginhost.Describe(ctx, pluginhost.Spec{Name: name, Path: path, SHA256: sum}, pluginhost.Options{Logger: d.logger})
}

// sdkBuiltinServer serves the built-ins of package plugins through the
// public SDK.
type sdkBuiltinServer struct{}

var _ builtinServer = sdkBuiltinServer{}

func (sdkBuiltinServer) Builtins(version string) []builtinPlugin {
	all := plugins.Builtins()
	out := make([]builtinPlugin, len(all))
	for i, b := range all {
		out[i] = builtinPlugin{kind: b.Kind, name: b.Name, version: version, protocol: plugins.ProtocolVersion}
	}
	return out
}

// Serve blocks until the host ends the plugin (see plugins.Serve).
func (sdkBuiltinServer) Serve(_ context.Context, kind, name, version string) error {
	return plugins.Serve(kind, name, version)
}

// ServeSources blocks like Serve (see plugins.ServeSources).
func (sdkBuiltinServer) ServeSources(_ context.Context, storageName, version string) error {
	return plugins.ServeSources(storageName, version)
}
