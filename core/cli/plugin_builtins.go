package cli

import (
	"context"

	"github.com/cscs-dev/cscs/plugins"
)

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
func (sdkBuiltinServer) ServeSources(_ context.Context, beside plugins.Beside, version string) error {
	return plugins.ServeSources(beside, version)
}
