// Package pipeline assembles a round's plugins: the sources that say what
// each host measures and the storages that receive the round. Built-ins are
// launched by re-executing the cscs binary and external plugins from the
// plugins directory's manifest, pinned by checksum; both are then used only
// through the SDK's contracts. A plugin that fails to start or describe
// itself is left out with a warning: the round goes on without it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Options say how to assemble the pipeline.
type Options struct {
	// Version is the core's version, given to built-ins.
	Version string
	// PluginsDir holds manifest.json and the external plugin binaries.
	PluginsDir string
	// DB is the built-in storage's database: a postgres:// or
	// postgresql:// DSN selects PostgreSQL, anything else is a SQLite path.
	DB string
	// InProcess runs the built-ins inside the core, without gRPC (for
	// benchmarks and debugging); external plugins stay out of process.
	InProcess bool
	// Logger receives plugin logs.
	Logger hclog.Logger
	// Launch tunes plugin start-up and call deadlines.
	Launch pluginhost.Options
	// SourcesOnly leaves the storages out (for `cscs validate`).
	SourcesOnly bool
	// Storages, when not empty, are the round's storages (the overlay's
	// storage blocks) instead of the one DB selects and the installed
	// ones.
	Storages []StorageInstance
	// Declared are external plugins the overlay declares; its sources
	// take part in the round like installed ones.
	Declared []Declared
	// Notifier names the built-in notifier the round's own mail goes
	// through ("smtp"), or "" for none: the process of the built-in
	// sources serves it beside them (see Pipeline.StartNotifier), so the
	// round starts no process for its mail. A name no built-in has is
	// left to StartNotifier.
	Notifier string
}

// Storage is one storage of the round, opened.
type Storage struct {
	// Name names its spool ("sqlite-…", "jsonl").
	Name string
	// Label names it in messages ("sqlite cscs.db", "jsonl").
	Label   string
	Storage storage.Storage
	// Writer writes the rounds to Storage (see WriterFor).
	Writer BatchWriter
}

// Pipeline is the round's plugins.
type Pipeline struct {
	Sources  *sources.Set
	Storages []Storage
	// Warnings are plugins left out of this round and why.
	Warnings []error
	// LeftOut are the sources among them, by name: those that could not
	// be started or did not describe themselves.
	LeftOut []sources.Failure

	running []*pluginhost.Plugin
	// notifier is the built-in notifier named notifierName served beside
	// the sources (Options.Notifier); nil when there is none.
	notifier     notifier.Notifier
	notifierName string
}

// member is one plugin to launch (or make in process).
type member struct {
	kind, name string
	spec       pluginhost.Spec
	inProcess  func() any
	config     []byte
	spoolName  string
	label      string
	// failed is why the plugin cannot be started at all.
	failed error
	// declared is set for a plugin of an overlay plugin block.
	declared bool
	// set are the sources of a binary serving several, or serving a source
	// beside a storage: the built-in sources, all from one process, or an
	// installed binary's plugins.
	set []setSource
	// setStorage names the storage the same process serves beside the set
	// (with config, spoolName and label); empty for none.
	setStorage string
	// setNotifier names the built-in notifier the same process serves
	// beside the set; empty for none.
	setNotifier string
}

// setSource is one source of a member's set.
type setSource struct {
	// name is the source's name in the round.
	name string
	// call is the name the process serves it under (sdkplugin.CallFor);
	// empty for a binary's only source.
	call string
}

// builtinMember is built-in b, in process or launched as opts say.
func builtinMember(opts Options, b plugins.Builtin) (member, error) {
	m := member{kind: b.Kind, name: b.Name}
	if opts.InProcess {
		m.inProcess = func() any { return b.New(opts.Version) }
		return m, nil
	}
	spec, err := pluginhost.BuiltinSpec(b.Kind, b.Name)
	if err != nil {
		return member{}, err
	}
	m.spec = spec
	return m, nil
}

// sourceNames are the sources m serves.
func (m member) sourceNames() []string {
	if m.set == nil {
		if m.kind == sdkplugin.KindSource {
			return []string{m.name}
		}
		return nil
	}
	names := make([]string, len(m.set))
	for i, s := range m.set {
		names[i] = s.name
	}
	return names
}

// storageName is the storage plugin m serves, or "".
func (m member) storageName() string {
	switch {
	case m.setStorage != "":
		return m.setStorage
	case m.kind == sdkplugin.KindStorage:
		return m.name
	}
	return ""
}

// dbMember is the built-in storage of the --db database.
func dbMember(opts Options) (member, error) {
	name, config, spoolName, err := builtinDB(opts.DB)
	if err != nil {
		return member{}, err
	}
	b, _ := plugins.Lookup(sdkplugin.KindStorage, name)
	m, err := builtinMember(opts, b)
	if err != nil {
		return member{}, err
	}
	m.config, m.spoolName, m.label = config, spoolName, b.Name+" "+DisplayName(opts.DB)
	return m, nil
}

// builtinSourceMembers are the built-in sources: each in process when
// opts say so, else all of them served by one plugin process (one start-up
// and one TLS set-up per round instead of one per source). That process
// also serves db's storage when db is set (then db.setStorage is set on
// return and db needs no process of its own), and opts.Notifier when it is
// a built-in.
func builtinSourceMembers(opts Options, db *member) ([]member, error) {
	var names []setSource
	var members []member
	for _, b := range plugins.Builtins() {
		if b.Kind != sdkplugin.KindSource {
			continue // storages are added by Assemble; notifiers are launched by the outbox when there is mail
		}
		if opts.InProcess {
			m, err := builtinMember(opts, b)
			if err != nil {
				return nil, err
			}
			members = append(members, m)
			continue
		}
		names = append(names, setSource{name: b.Name, call: b.Name})
	}
	if opts.InProcess || len(names) == 0 {
		return members, nil
	}
	storageName, notifierName := "", ""
	if db != nil {
		storageName = db.name
	}
	if _, ok := plugins.Lookup(sdkplugin.KindNotifier, opts.Notifier); ok {
		notifierName = opts.Notifier
	}
	spec, err := pluginhost.BuiltinSourcesSpec(storageName, notifierName)
	if err != nil {
		return nil, err
	}
	m := member{kind: sdkplugin.KindSource, name: spec.Name, spec: spec, set: names, setNotifier: notifierName}
	if db != nil {
		db.setStorage = db.name
		m.setStorage, m.config, m.spoolName, m.label = db.name, db.config, db.spoolName, db.label
	}
	return []member{m}, nil
}

// instanceMember is the plugin of an overlay storage instance.
func instanceMember(opts Options, in StorageInstance) (member, error) {
	loc, err := Locate(opts, sdkplugin.KindStorage, in.Plugin)
	if err != nil {
		return member{}, fmt.Errorf("storage %s: %w", in.Name, err)
	}
	if loc.Builtin != nil {
		return builtinMember(opts, *loc.Builtin)
	}
	return member{kind: sdkplugin.KindStorage, name: in.Plugin, spec: loc.Spec, declared: loc.Declared}, nil
}

// Assemble launches every plugin of the round concurrently.
func Assemble(ctx context.Context, opts Options) (*Pipeline, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	opts.Launch.Logger = opts.Logger
	var members []member
	var warnings []error
	// The default storage (the --db database) is served by the process of
	// the built-in sources, when they have one.
	var db *member
	if !opts.SourcesOnly && len(opts.Storages) == 0 {
		m, err := dbMember(opts)
		if err != nil {
			return nil, err
		}
		db = &m
	}
	builtinSources, err := builtinSourceMembers(opts, db)
	if err != nil {
		return nil, err
	}
	members = append(members, builtinSources...)
	external, warn := externalMembers(opts.PluginsDir, opts.SourcesOnly || len(opts.Storages) > 0)
	warnings = append(warnings, warn...)
	members = append(members, external...)
	for _, d := range opts.Declared {
		if d.Kind == sdkplugin.KindSource {
			members = append(members, member{kind: d.Kind, name: d.Name, declared: true,
				spec: pluginhost.Spec{Kind: d.Kind, Name: d.Name, Path: d.Path, SHA256: d.SHA256}})
		}
	}
	switch {
	case opts.SourcesOnly:
	case len(opts.Storages) > 0:
		for _, in := range opts.Storages {
			m, err := instanceMember(opts, in)
			if err == nil && in.LeftOut != nil {
				err = fmt.Errorf("storage %s: %w", in.Name, in.LeftOut)
			}
			if err != nil {
				warnings = append(warnings, err)
				m = member{kind: sdkplugin.KindStorage, name: in.Plugin, failed: err}
			}
			m.config, m.spoolName, m.label = in.Config, "storage-"+in.Name, in.Plugin+" "+in.Name
			members = append(members, m)
		}
	case db.setStorage == "":
		members = append(members, *db)
	}

	p := &Pipeline{}
	type launched struct {
		impl any
		// set are the sources of a member serving several, storage the
		// storage it serves beside them.
		set     []sources.Named
		storage storage.Storage
		// notifier is the built-in notifier it serves beside them, nil
		// when it has none or did not give it (StartNotifier then starts
		// one).
		notifier notifier.Notifier
		plug     *pluginhost.Plugin
		err      error
	}
	results := make([]launched, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.failed != nil {
				results[i].err = m.failed
				return
			}
			if m.inProcess != nil {
				results[i].impl = m.inProcess()
				return
			}
			plug, err := pluginhost.Launch(ctx, m.spec, opts.Launch)
			if err != nil {
				results[i].err = Located{Spec: m.spec, Declared: m.declared}.explain(err)
				return
			}
			results[i].plug = plug
			switch {
			case m.set != nil || m.setStorage != "":
				for _, s := range m.set {
					src, err := plug.SourceNamed(s.call)
					if err != nil {
						results[i].err = err
						return
					}
					results[i].set = append(results[i].set, sources.Named{Name: s.name, Source: src})
				}
				if m.setStorage != "" {
					results[i].storage, results[i].err = plug.StorageAs(m.setStorage)
				}
				if m.setNotifier != "" {
					results[i].notifier, _ = plug.NotifierAs(m.setNotifier)
				}
			case m.kind == sdkplugin.KindSource:
				results[i].impl, results[i].err = plug.Source()
			case m.kind == sdkplugin.KindStorage:
				results[i].impl, results[i].err = plug.Storage()
			}
		}()
	}
	wg.Wait()

	var named []sources.Named
	for i, m := range members {
		r := results[i]
		if r.plug != nil {
			p.running = append(p.running, r.plug)
		}
		if r.err != nil {
			switch {
			case m.kind != sdkplugin.KindStorage:
				left := "it is"
				if len(m.set) > 1 || (len(m.set) == 1 && m.setStorage != "") {
					left = "they are"
				}
				err := fmt.Errorf("%w; %s left out of this round", r.err, left)
				warnings = append(warnings, err)
				for _, name := range m.sourceNames() {
					p.LeftOut = append(p.LeftOut, sources.Failure{Name: name, Err: err})
				}
			default:
				warnings = append(warnings, r.err)
			}
			if storageName := m.storageName(); storageName != "" {
				// Its copy of the round is spooled and replayed once it works.
				u := unavailable{name: storageName, err: r.err}
				p.Storages = append(p.Storages, Storage{Name: m.spoolName, Label: m.label, Storage: u, Writer: u})
			}
			continue
		}
		named = append(named, r.set...)
		if r.notifier != nil {
			p.notifier, p.notifierName = r.notifier, m.setNotifier
		}
		if r.storage != nil {
			r.impl = r.storage
		}
		switch impl := r.impl.(type) {
		case source.Source:
			named = append(named, sources.Named{Name: m.name, Source: impl})
		case storage.Storage:
			if err := impl.Open(ctx, m.config); err != nil {
				warnings = append(warnings, err)
				// Keep it: WriteBatch will fail and the round is spooled.
			}
			p.Storages = append(p.Storages, Storage{Name: m.spoolName, Label: m.label, Storage: impl, Writer: WriterFor(ctx, impl)})
		}
	}
	set, failed := sources.Load(ctx, named)
	p.Sources = set
	p.Warnings = warnings
	for _, f := range failed {
		p.Warnings = append(p.Warnings, f.Err)
	}
	p.LeftOut = append(p.LeftOut, failed...)
	return p, nil
}

// unavailable stands in for a storage plugin that could not be started:
// every write fails with the reason, so the round is spooled for it.
type unavailable struct {
	name string
	err  error
}

func (u unavailable) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: u.name}, nil
}
func (u unavailable) Open(context.Context, []byte) error { return u.err }
func (u unavailable) WriteBatch(context.Context, *storage.Batch) error {
	return fmt.Errorf("not started: %w", u.err)
}
func (u unavailable) Close(context.Context) error { return nil }

// externalMembers reads the manifest: every installed source and storage
// takes part in the round, one process per binary however many plugins it
// serves. A storage's configuration is read from
// <plugins dir>/<name>.storage.json ({} when missing).
func externalMembers(dir string, sourcesOnly bool) ([]member, []error) {
	if dir == "" {
		return nil, nil
	}
	man, err := pluginhost.LoadManifest(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("external plugins left out of this round: %w", err)}
	}
	// The plugins of each binary, binaries in manifest order.
	type served struct {
		m    member
		call string
	}
	var (
		files    []string
		byFile   = make(map[string][]served)
		warnings []error
	)
	for _, e := range man.Plugins {
		if e.Kind == sdkplugin.KindNotifier || (sourcesOnly && e.Kind != sdkplugin.KindSource) {
			continue
		}
		m := member{kind: e.Kind, name: e.Name, spoolName: e.Name, label: e.Name,
			spec: e.Spec(dir)}
		if e.Kind == sdkplugin.KindStorage {
			cfg, err := os.ReadFile(filepath.Join(dir, e.Name+".storage.json"))
			switch {
			case errors.Is(err, os.ErrNotExist):
				cfg = []byte("{}")
			case err != nil:
				warnings = append(warnings, fmt.Errorf("storage plugin %s left out of this round: %w", e.Name, err))
				continue
			}
			m.config = cfg
		}
		if _, ok := byFile[e.File]; !ok {
			files = append(files, e.File)
		}
		byFile[e.File] = append(byFile[e.File], served{m: m, call: e.Member})
	}
	var out []member
	for _, file := range files {
		plugs := byFile[file]
		if len(plugs) == 1 && plugs[0].call == "" {
			out = append(out, plugs[0].m)
			continue
		}
		// One process for all of them. Entries are sorted by kind, so a
		// binary's sources come before its storage.
		set := member{kind: sdkplugin.KindSource, name: plugs[0].m.name, spec: plugs[0].m.spec}
		var names []string
		for _, p := range plugs {
			switch p.m.kind {
			case sdkplugin.KindSource:
				set.set = append(set.set, setSource{name: p.m.name, call: p.call})
			case sdkplugin.KindStorage:
				set.setStorage, set.config, set.spoolName, set.label = p.m.name, p.m.config, p.m.spoolName, p.m.label
			}
			names = append(names, p.m.name)
		}
		set.spec.Name = strings.Join(names, ", ")
		out = append(out, set)
	}
	return out, warnings
}

// Close closes the storages and stops every plugin process, all at once.
func (p *Pipeline) Close(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range p.Storages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.Storage.Close(ctx)
		}()
	}
	wg.Wait()
	for _, pl := range p.running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pl.Kill()
		}()
	}
	wg.Wait()
}
