package cli

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
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
	p, err := pluginhost.Launch(ctx, pluginhost.Spec{Name: name, Path: path, SHA256: sum}, pluginhost.Options{Logger: d.logger})
	if err != nil {
		return nil, err
	}
	defer p.Kill()
	var entries []pluginhost.Entry
	for _, kind := range p.Kinds() {
		if kind == sdkplugin.KindSource && len(p.SourceNames()) > 0 {
			// A binary serving several sources: one entry each, with the
			// name the core calls it by.
			for _, member := range p.SourceNames() {
				s, err := p.SourceNamed(member)
				if err != nil {
					return nil, err
				}
				d, err := s.Describe(ctx)
				if err != nil {
					return nil, err
				}
				entries = append(entries, pluginhost.Entry{Kind: kind, Name: d.Name, Version: d.Version, Protocol: p.Protocol(), Member: member})
			}
			continue
		}
		n, v, err := describeKind(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		entries = append(entries, pluginhost.Entry{Kind: kind, Name: n, Version: v, Protocol: p.Protocol()})
	}
	return entries, nil
}

// describeKind asks p's plugin of kind for its name and version.
func describeKind(ctx context.Context, p *pluginhost.Plugin, kind string) (name, version string, err error) {
	switch kind {
	case sdkplugin.KindStorage:
		s, err := p.Storage()
		if err != nil {
			return "", "", err
		}
		d, err := s.Describe(ctx)
		return d.Name, d.Version, err
	case sdkplugin.KindSource:
		s, err := p.Source()
		if err != nil {
			return "", "", err
		}
		d, err := s.Describe(ctx)
		return d.Name, d.Version, err
	case sdkplugin.KindNotifier:
		n, err := p.Notifier()
		if err != nil {
			return "", "", err
		}
		d, err := n.Describe(ctx)
		return d.Name, d.Version, err
	}
	return "", "", fmt.Errorf("it serves the kind %q, which this cscs does not know; upgrade cscs", kind)
}

// sdkBuiltinServer serves the built-ins of package plugins through the
// public SDK.
type sdkBuiltinServer struct{}

var _ builtinServer = sdkBuiltinServer{}

func (sdkBuiltinServer) Builtins(version string) []builtinPlugin {
	all := plugins.Builtins()
	out := make([]builtinPlugin, len(all))
	for i, b := range all {
		out[i] = builtinPlugin{kind: b.Kind, name: b.Name, version: version, protocol: sdkplugin.ProtocolVersion}
	}
	return out
}

// Serve blocks until the host ends the plugin. Started by hand, without
// the handshake the core gives it, sdkplugin.Serve prints that the binary
// is a plugin and exits the process with status 1.
func (sdkBuiltinServer) Serve(_ context.Context, kind, name, version string) error {
	b, ok := plugins.Lookup(kind, name)
	if !ok {
		return fmt.Errorf("no built-in %s plugin %q", kind, name)
	}
	impl := b.New(version)
	var cfg sdkplugin.ServeConfig
	ok = false
	switch kind {
	case sdkplugin.KindStorage:
		cfg.Storage, ok = impl.(storage.Storage)
	case sdkplugin.KindSource:
		cfg.Source, ok = impl.(source.Source)
	case sdkplugin.KindNotifier:
		cfg.Notifier, ok = impl.(notifier.Notifier)
	}
	if !ok {
		return notImplementing(b, impl)
	}
	sdkplugin.Serve(cfg)
	return nil
}

// ServeSources blocks like Serve.
func (sdkBuiltinServer) ServeSources(_ context.Context, storageName, version string) error {
	cfg := sdkplugin.ServeConfig{Sources: map[string]source.Source{}}
	for _, b := range plugins.Builtins() {
		if b.Kind != sdkplugin.KindSource {
			continue
		}
		impl, ok := b.New(version).(source.Source)
		if !ok {
			return notImplementing(b, impl)
		}
		cfg.Sources[b.Name] = impl
	}
	if storageName != "" {
		b, ok := plugins.Lookup(sdkplugin.KindStorage, storageName)
		if !ok {
			return fmt.Errorf("no built-in storage plugin %q", storageName)
		}
		impl := b.New(version)
		if cfg.Storage, ok = impl.(storage.Storage); !ok {
			return notImplementing(b, impl)
		}
	}
	sdkplugin.Serve(cfg)
	return nil
}

// notImplementing is the error for built-in b whose New made impl, which
// does not implement b's kind.
func notImplementing(b plugins.Builtin, impl any) error {
	return fmt.Errorf("built-in %s plugin %s is a %T, which does not implement the %s contract; this is a bug in cscs", b.Kind, b.Name, impl, b.Kind)
}
