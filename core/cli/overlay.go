package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/collect"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// overlayFlags registers --overlay and --var.
func (s *settings) overlayFlags(fs *flag.FlagSet) {
	fs.Var(&s.overlays, "overlay", "HCL overlay file, or directory of *.hcl files, layered over config.xml; repeatable, a later one wins (see docs/overlay.md)")
	fs.Var(&s.vars, "var", "NAME=VALUE sets an overlay variable; repeatable")
}

// declared lists the overlay's plugin blocks for the pipeline.
func declared(ov *overlay.Overlay) []pipeline.Declared {
	if ov == nil {
		return nil
	}
	out := make([]pipeline.Declared, len(ov.Plugins))
	for i, p := range ov.Plugins {
		out[i] = pipeline.Declared{Kind: p.Kind, Name: p.Name, Path: p.Path, SHA256: p.SHA256}
	}
	return out
}

// loadOverlay reads the overlays of s (none: nil, true), checks them
// against the sources and the plugins' schemas and prints diagnostics in
// HCL's format. ok is false when there are errors.
func loadOverlay(ctx context.Context, env *Env, s *settings, pluginsDir string) (ov *overlay.Overlay, descs []source.Description, ok bool) {
	if len(s.overlays) == 0 {
		return nil, nil, true
	}
	files, err := overlay.Files(s.overlays)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs: %v\n", err)
		return nil, nil, false
	}
	vars := map[string]string{}
	for _, v := range s.vars {
		name, value, found := strings.Cut(v, "=")
		if !found || name == "" {
			fmt.Fprintf(env.Stderr, "cscs: --var %q: write NAME=VALUE\n", v)
			return nil, nil, false
		}
		vars[name] = value
	}
	ov, diags := overlay.Load(files, overlay.Options{Env: envLookup(env), Vars: vars})
	if !diags.HasErrors() {
		var warnings []error
		descs, warnings = sourceDescriptions(ctx, env, pluginsDir, declared(ov))
		for _, w := range warnings {
			fmt.Fprintf(env.Stderr, "cscs: %v\n", w)
		}
		lookup := schemaLookup{opts: pipeline.Options{Version: env.Version, PluginsDir: pluginsDir, InProcess: true, Declared: declared(ov),
			Logger: hclog.New(&hclog.LoggerOptions{Name: "cscs", Output: env.Stderr, Level: hclog.Warn})}}
		isBuiltin := func(kind, name string) bool { _, ok := plugins.Lookup(kind, name); return ok }
		diags = append(diags, ov.Resolve(ctx, overlay.ResolveOptions{Schemas: lookup, Sources: descs, IsBuiltin: isBuiltin})...)
	}
	if len(diags) > 0 {
		_ = ov.WriteDiagnostics(env.Stderr, diags, 100, isTerminal(env.Stderr))
	}
	if diags.HasErrors() {
		fmt.Fprintf(env.Stderr, "cscs: the overlay has errors; fix them and run again\n")
		return ov, descs, false
	}
	return ov, descs, true
}

// schemaLookup asks a plugin for its configuration schema.
type schemaLookup struct{ opts pipeline.Options }

func (l schemaLookup) Schema(ctx context.Context, kind, name string) (schema.Schema, error) {
	loc, err := pipeline.Locate(l.opts, kind, name)
	if err != nil {
		return schema.Schema{}, err
	}
	impl, stop, err := loc.Start(ctx, l.opts)
	if err != nil {
		return schema.Schema{}, err
	}
	defer stop()
	return overlay.PluginSchema(ctx, impl)
}

// overlaid loads the overlays of s, lets their round settings replace the
// defaults of the flags not given, and checks the result; errors are
// printed under command's name (false: exit with ExitBadConfig).
func (s *settings) overlaid(ctx context.Context, env *Env, fs *flag.FlagSet, command string) (*overlay.Overlay, bool) {
	ov, _, ok := loadOverlay(ctx, env, s, s.pluginsDir())
	if !ok {
		return nil, false
	}
	s.applyOverlay(fs, ov)
	if err := s.check(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, false
	}
	return ov, true
}

// overlaidStorages loads the overlays of s and returns their storage
// blocks; errors are printed under command's name (false: exit with
// ExitBadConfig).
func (s *settings) overlaidStorages(ctx context.Context, env *Env, command string) (*overlay.Overlay, []pipeline.StorageInstance, bool) {
	ov, _, ok := loadOverlay(ctx, env, s, s.pluginsDir())
	if !ok {
		return nil, nil, false
	}
	instances, err := overlayStorages(ov)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs %s: %v\n", command, err)
		return nil, nil, false
	}
	return ov, instances, true
}

// applyOverlay lets the overlay's round settings replace the defaults of
// the flags not given on the command line.
func (s *settings) applyOverlay(fs *flag.FlagSet, ov *overlay.Overlay) {
	if ov == nil {
		return
	}
	r := ov.Round
	if r.Concurrency.Set && !flagGiven(fs, "concurrency") {
		s.concurrency = r.Concurrency.Value
	}
	if r.MaxHandshakes.Set && !flagGiven(fs, "max-handshakes") {
		s.handshakes = r.MaxHandshakes.Value
	}
	if r.MaxUploads.Set && !flagGiven(fs, "max-uploads") {
		s.uploads = r.MaxUploads.Value
	}
	durations := []struct {
		flag string
		set  overlay.Setting[time.Duration]
		dst  *time.Duration
	}{
		{"connect-timeout", r.ConnectTimeout, &s.connectTO},
		{"handshake-timeout", r.HandshakeTimeout, &s.handshakeTO},
		{"host-timeout", r.HostTimeout, &s.hostTO},
		{"cpu-sample", r.CPUSample, &s.cpuSample},
		{"alert-repeat", r.AlertRepeat, &s.alertRepeat},
		{"interval", r.Interval, &s.interval},
	}
	for _, d := range durations {
		if d.set.Set && !flagGiven(fs, d.flag) {
			*d.dst = d.set.Value
		}
	}
}

// hostPolicy applies the overlay's groups to each host: the sources they
// allow and their module settings.
type hostPolicy struct {
	ov *overlay.Overlay
	// modules caches each module block's JSON by group and source.
	modules map[string]json.RawMessage
}

// newHostPolicy prepares the module settings of every group; the
// settings flags give (base) win over a group's, key by key.
func newHostPolicy(ov *overlay.Overlay, base map[string]json.RawMessage) (*hostPolicy, error) {
	p := &hostPolicy{ov: ov, modules: map[string]json.RawMessage{}}
	for _, g := range ov.Groups {
		for _, m := range g.Modules {
			raw, err := m.JSON()
			if err == nil {
				raw, err = mergeObjects(raw, base[m.Source])
			}
			if err != nil {
				return nil, fmt.Errorf("group %s module %s: %w", g.Name, m.Source, err)
			}
			p.modules[g.Name+"/"+m.Source] = raw
		}
	}
	return p, nil
}

// mergeObjects returns the JSON object a with the keys of over replacing
// its own.
func mergeObjects(a, over json.RawMessage) (json.RawMessage, error) {
	if len(over) == 0 {
		return a, nil
	}
	var merged, top map[string]json.RawMessage
	if err := json.Unmarshal(a, &merged); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(over, &top); err != nil {
		return nil, err
	}
	if merged == nil {
		merged = map[string]json.RawMessage{}
	}
	maps.Copy(merged, top)
	return json.Marshal(merged)
}

func (p *hostPolicy) ForHost(cl config.Client, pl source.Platform) collect.HostPlan {
	groups := p.ov.GroupsOf(cl.IP, pl.OS)
	plan := collect.HostPlan{Sources: overlay.SourcesFor(groups)}
	for _, g := range groups {
		for _, m := range g.Modules {
			if plan.ModuleConfig == nil {
				plan.ModuleConfig = map[string]json.RawMessage{}
			}
			plan.ModuleConfig[m.Source] = p.modules[g.Name+"/"+m.Source]
		}
	}
	return plan
}

// overlayStorages are the overlay's storage blocks for the pipeline.
func overlayStorages(ov *overlay.Overlay) ([]pipeline.StorageInstance, error) {
	if ov == nil {
		return nil, nil
	}
	var out []pipeline.StorageInstance
	for _, in := range ov.Storages {
		raw, err := in.JSON()
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", in.Name, err)
		}
		out = append(out, pipeline.StorageInstance{Plugin: in.Plugin, Name: in.Name, Config: raw})
	}
	return out, nil
}

// overlayRules compiles the overlay's expression rules once per round.
type overlayRules struct {
	ov    *overlay.Overlay
	rules map[string]alert.Rule // by group/name
}

func newOverlayRules(ov *overlay.Overlay, descs []source.Description) *overlayRules {
	if ov == nil {
		return nil
	}
	units := map[string]string{}
	for _, d := range descs {
		for _, m := range d.Metrics {
			units[m.Name] = m.Unit
		}
	}
	r := &overlayRules{ov: ov, rules: map[string]alert.Rule{}}
	add := func(al overlay.Alert) {
		sum := sha256.Sum256([]byte(al.Text))
		id := al.Name
		if al.Group != "" {
			id = al.Group + "/" + al.Name
		}
		metric := al.FirstMetric()
		r.rules[id] = alert.Rule{
			ID: id + "#" + hex.EncodeToString(sum[:4]), Type: al.Name, Metric: metric, Unit: units[metric],
			LimitText: al.Text, Cond: condition{al}, Severity: al.Severity, For: al.For, Repeat: al.Repeat,
		}
	}
	for _, al := range ov.Alerts {
		add(al)
	}
	for _, g := range ov.Groups {
		for _, al := range g.Alerts {
			add(al)
		}
	}
	return r
}

// forHost returns the rules of a host in groups.
func (r *overlayRules) forHost(groups []*overlay.Group) []alert.Rule {
	if r == nil {
		return nil
	}
	var out []alert.Rule
	for _, al := range r.ov.AlertsFor(groups) {
		id := al.Name
		if al.Group != "" {
			id = al.Group + "/" + al.Name
		}
		out = append(out, r.rules[id])
	}
	return out
}

// condition adapts an overlay alert to alert.Condition.
type condition struct{ al overlay.Alert }

func (c condition) Holds(h alert.HostInfo, samples map[string]float64) (bool, bool) {
	return c.al.Holds(overlay.Facts{IP: h.IP, Port: h.Port, Hostname: h.Hostname, OS: h.OS, Arch: h.Arch}, samples)
}

// overlayRedactor masks every secret of the overlay's plugin blocks (the
// string values of sensitive settings, also inside lists and maps) in
// text.
func overlayRedactor(ov *overlay.Overlay) func(string) string {
	var secrets []string
	if ov != nil {
		secrets = ov.Secrets()
	}
	return func(text string) string {
		for _, sec := range secrets {
			text = strings.ReplaceAll(text, sec, "********")
		}
		return text
	}
}

// channelsFor are the notifier instances a notification goes to.
func channelsFor(ov *overlay.Overlay, n overlay.Notice) []string {
	if ov == nil {
		return []string{overlay.DefaultNotifier}
	}
	return ov.Route(n)
}

// worstSeverity is the most severe severity among a mail's rules.
func worstSeverity(tr alert.Transitions) string {
	worst := "info"
	for _, c := range tr.Changes {
		sev := c.Rule.Severity
		if sev == "" {
			sev = "warning"
		}
		if overlay.SeverityRank(sev) > overlay.SeverityRank(worst) {
			worst = sev
		}
	}
	return worst
}

// notifierInstance finds a notifier block by name.
func notifierInstance(ov *overlay.Overlay, name string) (overlay.Instance, bool) {
	if ov == nil {
		return overlay.Instance{}, false
	}
	for _, n := range ov.Notifiers {
		if n.Name == name {
			return n, true
		}
	}
	return overlay.Instance{}, false
}

// startNotifier launches notifier instance in and configures it.
func startNotifier(ctx context.Context, env *Env, s *settings, ov *overlay.Overlay, in overlay.Instance) (notifier.Notifier, func(), error) {
	opts := pipeline.Options{Version: env.Version, PluginsDir: s.pluginsDir(), Declared: declared(ov),
		Logger: hclog.New(&hclog.LoggerOptions{Name: "cscs", Output: env.Stderr, Level: hclog.Warn})}
	loc, err := pipeline.Locate(opts, sdkplugin.KindNotifier, in.Plugin)
	if err != nil {
		return nil, nil, err
	}
	impl, stop, err := loc.Start(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	n := impl.(notifier.Notifier)
	raw, err := in.JSON()
	if err == nil {
		err = n.Configure(ctx, raw)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("notifier %s (%s): %w", in.Name, in.Plugin, err)
	}
	return n, stop, nil
}
