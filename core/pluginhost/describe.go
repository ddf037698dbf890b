package pluginhost

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
)

// Describe launches the plugin binary of spec and returns a manifest
// entry for each plugin it serves: one per source of a binary serving
// several (with the name the core calls it by), one per other kind.
func Describe(ctx context.Context, spec Spec, opts Options) ([]Entry, error) {
	p, err := Launch(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	defer p.Kill()
	var entries []Entry
	for _, kind := range p.Kinds() {
		if kind == sdkplugin.KindSource && len(p.SourceNames()) > 0 {
			for _, member := range p.SourceNames() {
				s, err := p.SourceNamed(member)
				if err != nil {
					return nil, err
				}
				d, err := s.Describe(ctx)
				if err != nil {
					return nil, err
				}
				entries = append(entries, Entry{Kind: kind, Name: d.Name, Version: d.Version, Protocol: p.Protocol(), Member: member})
			}
			continue
		}
		name, version, err := p.describeKind(ctx, kind)
		if err != nil {
			return nil, err
		}
		entries = append(entries, Entry{Kind: kind, Name: name, Version: version, Protocol: p.Protocol()})
	}
	return entries, nil
}

// describeKind asks p's plugin of kind for its name and version.
func (p *Plugin) describeKind(ctx context.Context, kind string) (name, version string, err error) {
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

// Launcher is the Describer that launches a binary as a round would,
// logging to Logger (nil: nothing).
type Launcher struct {
	Logger hclog.Logger
}

var _ Describer = Launcher{}

// Describe launches the binary at path (pinned to sha256 unless it is
// empty) and lists what it serves (see Describe).
func (l Launcher) Describe(ctx context.Context, path, sha256, name string) ([]Entry, error) {
	return Describe(ctx, Spec{Name: name, Path: path, SHA256: sha256}, Options{Logger: l.Logger})
}
