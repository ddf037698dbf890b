package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Declared is an external plugin the overlay declares by path and
// checksum; it takes part like an installed one.
type Declared struct {
	Kind, Name   string
	Path, SHA256 string
}

// StorageInstance is a configured storage of the overlay.
type StorageInstance struct {
	// Plugin names the storage plugin; Name the instance.
	Plugin, Name string
	// Config is the JSON object the plugin's Open receives.
	Config []byte
	// LeftOut, when set, is why the plugin is left out of the round (it
	// could not be started when the configuration was loaded): it is not
	// started, and its copy of the round is spooled.
	LeftOut error
}

// Located is a plugin found by kind and name.
type Located struct {
	// Builtin is set for a built-in plugin.
	Builtin *plugins.Builtin
	// Spec launches it out of process.
	Spec pluginhost.Spec
	// Declared is set for a plugin of an overlay plugin block.
	Declared bool
	// Member is the name an installed binary serving several sources
	// serves this one under (pluginhost.Entry.Member).
	Member string
}

// Locate finds the plugin of kind named name: built in, declared in
// opts.Declared, or installed in opts.PluginsDir, in that order.
func Locate(opts Options, kind, name string) (Located, error) {
	if b, ok := plugins.Lookup(kind, name); ok {
		spec, err := pluginhost.BuiltinSpec(kind, name)
		if err != nil {
			return Located{}, err
		}
		return Located{Builtin: &b, Spec: spec}, nil
	}
	for _, d := range opts.Declared {
		if d.Kind == kind && d.Name == name {
			return Located{Spec: pluginhost.Spec{Kind: kind, Name: name, Path: d.Path, SHA256: d.SHA256}, Declared: true}, nil
		}
	}
	var known []string
	for _, b := range plugins.Builtins() {
		if b.Kind == kind {
			known = append(known, b.Name)
		}
	}
	if opts.PluginsDir != "" {
		man, err := pluginhost.LoadManifest(opts.PluginsDir)
		if err != nil {
			return Located{}, fmt.Errorf("looking for %s plugin %q: %w", kind, name, err)
		}
		for _, e := range man.Plugins {
			if e.Kind == kind && e.Name == name {
				return Located{Spec: e.Spec(opts.PluginsDir), Member: e.Member}, nil
			}
			if e.Kind == kind {
				known = append(known, e.Name)
			}
		}
	}
	for _, d := range opts.Declared {
		if d.Kind == kind {
			known = append(known, d.Name)
		}
	}
	slices.Sort(known)
	return Located{}, unknownPlugin(fmt.Sprintf("no %s plugin named %q is built in, declared in a plugin block or installed (known: %s); declare it with a plugin block or install it with `cscs plugins install`",
		kind, name, strings.Join(slices.Compact(known), ", ")))
}

// ErrUnknownPlugin marks a plugin name that nothing provides: a fault of
// the configuration, where any other failure to start a plugin is a
// fault of the plugin (see Broken).
var ErrUnknownPlugin = errors.New("unknown plugin")

// unknownPlugin is the error of Locate for a name nothing provides; it
// is ErrUnknownPlugin.
type unknownPlugin string

func (e unknownPlugin) Error() string      { return string(e) }
func (unknownPlugin) Is(target error) bool { return target == ErrUnknownPlugin }

// Broken reports whether err, from starting a plugin or asking it to
// describe itself, is the plugin's fault (its binary is missing, changed
// or crashes) rather than the configuration's: a round leaves such a
// plugin out and goes on.
func Broken(err error) bool {
	return err != nil && !errors.Is(err, ErrUnknownPlugin) && !errors.Is(err, ErrSettingsRefused)
}

// Start makes the plugin: in process for a built-in when inProcess is
// set, else launched. stop releases it.
func (l Located) Start(ctx context.Context, opts Options) (impl any, stop func(), err error) {
	if l.Builtin != nil && opts.InProcess {
		impl := l.Builtin.New(opts.Version)
		stop := func() {}
		if c, ok := impl.(notifier.Closer); ok {
			stop = func() { _ = c.Close() }
		}
		return impl, stop, nil
	}
	opts.Launch.Logger = opts.Logger
	plug, err := pluginhost.Launch(ctx, l.Spec, opts.Launch)
	if err != nil {
		return nil, nil, l.explain(err)
	}
	switch l.Spec.Kind {
	case sdkplugin.KindSource:
		impl, err = plug.SourceNamed(l.Member)
	case sdkplugin.KindStorage:
		impl, err = plug.Storage()
	case sdkplugin.KindNotifier:
		impl, err = plug.Notifier()
	default:
		err = fmt.Errorf("plugin %s: unknown kind %q", l.Spec.Name, l.Spec.Kind)
	}
	if err != nil {
		plug.Kill()
		return nil, nil, err
	}
	return impl, plug.Kill, nil
}

// explain rewrites the advice of a launch error for a declared plugin:
// its fix is in the plugin block, not in `cscs plugins install`.
func (l Located) explain(err error) error {
	if !l.Declared {
		return err
	}
	switch {
	case errors.Is(err, pluginhost.ErrChecksumMismatch) && !errors.Is(err, pluginhost.ErrUnreadable):
		return fmt.Errorf("plugin %q: %w: %s does not have the sha256 its plugin block pins; if the new binary is trusted, put its checksum (sha256sum %s) in the block",
			l.Spec.Name, pluginhost.ErrChecksumMismatch, l.Spec.Path, l.Spec.Path)
	case errors.Is(err, pluginhost.ErrBinaryNotFound):
		return fmt.Errorf("plugin %q: %w: %s does not exist; correct path in its plugin block", l.Spec.Name, pluginhost.ErrBinaryNotFound, l.Spec.Path)
	}
	return err
}

// StartPlugin locates the plugin of kind named name (see Locate) and
// starts it (see Located.Start): the one way the core starts a plugin
// outside a round's pipeline.
func StartPlugin(ctx context.Context, opts Options, kind, name string) (impl any, stop func(), err error) {
	loc, err := Locate(opts, kind, name)
	if err != nil {
		return nil, nil, err
	}
	return loc.Start(ctx, opts)
}

// startAs is StartPlugin for a plugin that must implement T; what names
// T in the error when it does not ("a storage").
func startAs[T any](ctx context.Context, opts Options, kind, name, what string) (T, func(), error) {
	var zero T
	impl, stop, err := StartPlugin(ctx, opts, kind, name)
	if err != nil {
		return zero, nil, err
	}
	v, ok := impl.(T)
	if !ok {
		stop()
		return zero, nil, fmt.Errorf("plugin %s is not %s", name, what)
	}
	return v, stop, nil
}

// ErrSettingsRefused marks a Configure or Open that the plugin refused:
// the fault is in the settings given to it, not in the plugin.
var ErrSettingsRefused = errors.New("the plugin refused its settings")

// refusedError is a plugin refusing its settings.
type refusedError struct {
	kind, name string
	err        error
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("the %s %s refused these settings: %v", e.name, e.kind, e.err)
}

func (e *refusedError) Unwrap() []error { return []error{ErrSettingsRefused, e.err} }

// refused wraps err in a refusedError unless the plugin failed.
func refused(kind, name string, err error) error {
	if pluginhost.Failed(err) {
		return err
	}
	return &refusedError{kind: kind, name: name, err: err}
}

// StartNotifier starts the notifier plugin named name and configures it
// with config (JSON). A refusal of the settings wraps ErrSettingsRefused;
// stop releases the plugin.
func StartNotifier(ctx context.Context, opts Options, name string, config []byte) (notifier.Notifier, func(), error) {
	n, stop, err := startAs[notifier.Notifier](ctx, opts, sdkplugin.KindNotifier, name, "a notifier")
	if err != nil {
		return nil, nil, err
	}
	if err := n.Configure(ctx, config); err != nil {
		stop()
		return nil, nil, refused(sdkplugin.KindNotifier, name, err)
	}
	return n, stop, nil
}

// StartNotifier is StartNotifier (the function) through the notifier the
// process of the built-in sources serves beside them (Options.Notifier)
// when name is that one: no process of its own. Its stop does nothing:
// the notifier ends with the pipeline. Should that process have stopped
// answering, the notifier gets a process of its own after all.
func (p *Pipeline) StartNotifier(ctx context.Context, opts Options, name string, config []byte) (notifier.Notifier, func(), error) {
	if p == nil || p.notifier == nil || name != p.notifierName {
		return StartNotifier(ctx, opts, name, config)
	}
	if err := p.notifier.Configure(ctx, config); err != nil {
		if pluginhost.Failed(err) && ctx.Err() == nil {
			return StartNotifier(ctx, opts, name, config)
		}
		return nil, nil, refused(sdkplugin.KindNotifier, name, err)
	}
	return p.notifier, func() {}, nil
}

// Migrate starts the storage plugin named name and asks it to create or
// upgrade the schema of the backend config names (storage.Migrator). A
// storage without Migrate is opened and closed instead, which prepares
// what it needs by the storage contract; the Migration then has no
// version.
func Migrate(ctx context.Context, opts Options, name string, config []byte) (storage.Migration, error) {
	st, stop, err := startStorage(ctx, opts, name)
	if err != nil {
		return storage.Migration{}, err
	}
	defer stop()
	m, err := storage.Migrate(ctx, st, config)
	if !errors.Is(err, storage.ErrUnsupported) {
		return m, err
	}
	if err := st.Open(ctx, config); err != nil {
		_ = st.Close(ctx)
		return storage.Migration{}, err
	}
	return storage.Migration{}, st.Close(ctx)
}

// Prune starts the storage plugin named name and asks it to delete what
// is older than olderThan from the backend config names (storage.Pruner).
// A storage without Prune gives an error wrapping storage.ErrUnsupported.
func Prune(ctx context.Context, opts Options, name string, config []byte, olderThan time.Time) (storage.Pruned, error) {
	st, stop, err := startStorage(ctx, opts, name)
	if err != nil {
		return storage.Pruned{}, err
	}
	defer stop()
	p, err := storage.Prune(ctx, st, config, olderThan)
	if errors.Is(err, storage.ErrUnsupported) {
		return p, fmt.Errorf("the storage plugin %s does not prune (%w); set its own retention, if it has one", name, err)
	}
	return p, err
}

// PrunePreview starts the storage plugin named name and asks it to count
// what Prune would delete, deleting nothing (storage.PrunePreviewer). A
// storage without it gives an error wrapping storage.ErrUnsupported; it is
// never pruned instead.
func PrunePreview(ctx context.Context, opts Options, name string, config []byte, olderThan time.Time) (storage.Pruned, error) {
	st, stop, err := startStorage(ctx, opts, name)
	if err != nil {
		return storage.Pruned{}, err
	}
	defer stop()
	p, err := storage.PrunePreview(ctx, st, config, olderThan)
	if errors.Is(err, storage.ErrUnsupported) {
		return p, fmt.Errorf("the storage plugin %s cannot tell what a prune would delete without deleting it (%w); it is left alone", name, err)
	}
	return p, err
}

// OpenStorage starts the storage plugin named name and opens it with
// config, as a round does; stop closes it and releases the plugin.
func OpenStorage(ctx context.Context, opts Options, name string, config []byte) (st storage.Storage, stop func(), err error) {
	st, release, err := startStorage(ctx, opts, name)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Open(ctx, config); err != nil {
		_ = st.Close(ctx)
		release()
		return nil, nil, err
	}
	return st, func() { _ = st.Close(ctx); release() }, nil
}

// MaintenanceTimeout bounds a Migrate or Prune call when opts.Launch sets
// no call timeout: migrating or pruning a large database takes long, and
// the operator who started it can interrupt it.
const MaintenanceTimeout = time.Hour

// startStorage starts the storage plugin named name, unopened.
func startStorage(ctx context.Context, opts Options, name string) (storage.Storage, func(), error) {
	if opts.Launch.CallTimeout == 0 {
		opts.Launch.CallTimeout = MaintenanceTimeout
	}
	return startAs[storage.Storage](ctx, opts, sdkplugin.KindStorage, name, "a storage")
}
