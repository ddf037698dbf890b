package round

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Files name the configuration a round is planned from.
type Files struct {
	// Inventory is config.xml: the clients and their <alert> rules;
	// empty for none (commands that only need the overlays).
	Inventory string
	// Email is email_config.json; a missing file is allowed (mail then
	// waits in the outbox), a broken one is not. Empty: not read.
	Email string
	// Overlays are HCL files or directories of *.hcl files, layered over
	// the inventory in order.
	Overlays []string
	// Vars are the overlay variables given as NAME=VALUE.
	Vars []string
}

// LoadOptions say where the plugins a configuration names are found.
type LoadOptions struct {
	// Version is the core's version, given to built-in plugins.
	Version string
	// PluginsDir holds the installed plugins and their manifest.
	PluginsDir string
	// Env looks up environment variables (env() in overlays, env:NAME
	// secrets); nil means os.LookupEnv.
	Env func(string) (string, bool)
	// Logger receives the logs of plugins started to describe themselves.
	Logger hclog.Logger
	// Color writes the overlays' diagnostics for a terminal.
	Color bool
	// Strict makes a plugin that cannot be started or described an
	// error, as `cscs validate` reports it. Otherwise (a round) the plugin
	// is left out with a warning that names it and the fix, what needs it
	// is skipped (its storage's copy spooled, its notifications kept in
	// the outbox, the rules on its metrics not evaluated), and the round
	// goes on.
	Strict bool
}

// Config is every configuration file of a round, loaded and checked: the
// inventory, the mail sender, the overlays, and the alert rules of
// config.xml compiled against the alert types the sources declare. A
// Config that Load returns without error has nothing a round would
// reject later.
type Config struct {
	Files     Files
	Inventory *config.Config
	// Email is nil when Files.Email does not exist.
	Email *config.Email
	// Overlay is nil without overlays.
	Overlay *overlay.Overlay
	// Sources describe the sources the configuration was checked against,
	// as they described themselves at load: the built-ins, and the
	// installed and declared external sources when the configuration
	// needed them (overlays, or an alert type no built-in declares).
	Sources []source.Description
	// Rules are the <alert> rules of each client, Rules[i] for
	// Inventory.Clients[i].
	Rules [][]alert.Rule
	// Down is each client's <alert type="down"> setting, Down[i] for
	// Inventory.Clients[i].
	Down []alert.DownLimit
	// SkippedTypes are the alert types of config.xml rules skipped
	// because no source that started declares them while a source was
	// left out (not Strict): their firing states are kept, neither
	// resolved nor retired.
	SkippedTypes []string
}

// ErrInvalid is returned by Load when a file has errors; the diagnostics
// have been written.
var ErrInvalid = errors.New("the configuration has errors")

// Load reads and checks every file of files, writing diagnostics to w as
// it finds them: config.xml's and email_config.json's as file:line:col
// lines, the overlays' in HCL's format with source snippets. It returns
// ErrInvalid when any file has errors, and a Config otherwise (warnings
// are written too).
func Load(ctx context.Context, files Files, opts LoadOptions, w io.Writer) (*Config, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	c := &Config{Files: files}
	var (
		inv   *config.Config
		diags config.Diagnostics
	)
	if files.Inventory != "" {
		// The rules of an inventory with errors are compiled too, so that
		// one pass reports every problem of config.xml; the Config keeps
		// no inventory then.
		inv, diags = config.ReadInventory(files.Inventory, config.LoadOptions{})
		if !diags.HasErrors() {
			c.Inventory = inv
		}
	}
	// The overlays print their own diagnostics, in HCL's format.
	ov, described, valid := loadOverlay(ctx, files, opts, w)
	c.Overlay = ov
	if inv != nil {
		if described == nil {
			described = sourcesForRules(ctx, inv, opts, w)
			valid = valid && (!opts.Strict || len(described.leftOut) == 0)
		}
		var skipped []string
		if !opts.Strict {
			skipped = described.skippedTypes(inv)
		}
		rules, down, ruleDiags := compileRules(inv, described.descs, skipped)
		if c.Inventory != nil {
			c.Rules, c.Down, c.SkippedTypes = rules, down, skipped
		}
		diags = append(diags, ruleDiags...)
		diags.Sort()
	}
	if described != nil {
		c.Sources = described.descs
	}
	if _, err := os.Stat(files.Email); files.Email != "" && (err == nil || !errors.Is(err, fs.ErrNotExist)) {
		var ed config.Diagnostics
		c.Email, ed = config.LoadEmail(files.Email, config.LoadOptions{})
		diags = append(diags, ed...)
	}
	for _, d := range diags {
		fmt.Fprintln(w, d.String())
	}
	if diags.HasErrors() {
		fmt.Fprintf(w, "cscs: the errors above must be fixed before a round can start (`cscs validate` checks without collecting)\n")
	}
	if diags.HasErrors() || !valid {
		return c, ErrInvalid
	}
	return c, nil
}

// sourcesForRules describes the sources the alert rules of inv are
// compiled against when no overlay has described them: the built-ins,
// which describe themselves in process, for free, and the installed
// sources too, started only when a rule names an alert type no built-in
// declares.
func sourcesForRules(ctx context.Context, inv *config.Config, opts LoadOptions, w io.Writer) *described {
	builtin := opts
	builtin.PluginsDir = ""
	d := describeSources(ctx, builtin, nil)
	if _, _, diags := compileRules(inv, d.descs, nil); !diags.HasErrors() || opts.PluginsDir == "" {
		return d
	}
	d = describeSources(ctx, opts, nil)
	d.write(w, opts.Strict)
	return d
}

// loadOverlay reads the overlays of files (none: nil, true), checks them
// against the sources and the plugins' schemas and writes diagnostics in
// HCL's format. ok is false when there are errors.
func loadOverlay(ctx context.Context, files Files, opts LoadOptions, w io.Writer) (ov *overlay.Overlay, d *described, ok bool) {
	if len(files.Overlays) == 0 {
		return nil, nil, true
	}
	paths, err := overlay.Files(files.Overlays)
	if err != nil {
		fmt.Fprintf(w, "cscs: %v\n", err)
		return nil, nil, false
	}
	vars := map[string]string{}
	for _, v := range files.Vars {
		name, value, found := strings.Cut(v, "=")
		if !found || name == "" {
			fmt.Fprintf(w, "cscs: --var %q: write NAME=VALUE\n", v)
			return nil, nil, false
		}
		vars[name] = value
	}
	ov, diags := overlay.Load(paths, overlay.Options{Env: opts.Env, Vars: vars})
	if !diags.HasErrors() {
		d = describeSources(ctx, opts, declared(ov))
		d.write(w, opts.Strict)
		lookup := schemaLookup{opts: opts.pipeline(declared(ov), true)}
		isBuiltin := func(kind, name string) bool { _, ok := plugins.Lookup(kind, name); return ok }
		ropts := overlay.ResolveOptions{Schemas: lookup, Sources: d.descs, IsBuiltin: isBuiltin, LeftOut: map[string]error{}}
		for _, f := range d.leftOut {
			ropts.LeftOut[f.Name] = f.Err
		}
		if !opts.Strict {
			ropts.LeaveOut = pipeline.Broken
		}
		diags = append(diags, ov.Resolve(ctx, ropts)...)
	}
	if len(diags) > 0 {
		_ = ov.WriteDiagnostics(w, diags, 100, opts.Color)
	}
	if diags.HasErrors() || (opts.Strict && d != nil && len(d.leftOut) > 0) {
		fmt.Fprintf(w, "cscs: the overlay has errors; fix them and run again\n")
		return ov, d, false
	}
	return ov, d, true
}

// described is what the sources of a configuration said about
// themselves, and those left out.
type described struct {
	descs []source.Description
	// warnings say which plugins were left out and why; leftOut are the
	// sources among them.
	warnings []error
	leftOut  []sources.Failure
}

// write writes the plugins left out while describing sources: errors
// when strict (`cscs validate`), else warnings.
func (d *described) write(w io.Writer, strict bool) {
	label := "warning"
	if strict {
		label = "error"
	}
	for _, warn := range d.warnings {
		fmt.Fprintf(w, "cscs: %s: %v\n", label, warn)
	}
}

// skippedTypes are the alert types of inv's rules that no described
// source declares, when sources were left out: they may be the left-out
// sources' types, so their rules are skipped (with a warning) rather than
// refused.
func (d *described) skippedTypes(inv *config.Config) []string {
	if len(d.leftOut) == 0 {
		return nil
	}
	types := alert.TypesFrom(d.descs)
	var out []string
	for _, cl := range inv.Clients {
		for _, a := range cl.Alerts {
			if _, ok := types[a.Type]; !ok && a.Type != alert.DownType && !slices.Contains(out, a.Type) {
				out = append(out, a.Type)
			}
		}
	}
	return out
}

// pipeline is the pipeline options for the plugins of a configuration.
func (o LoadOptions) pipeline(decl []pipeline.Declared, inProcess bool) pipeline.Options {
	return pipeline.Options{Version: o.Version, PluginsDir: o.PluginsDir, InProcess: inProcess, Declared: decl, Logger: o.Logger}
}

// describeSources describes the sources a round would use (built-ins in
// process, installed and declared external sources launched).
func describeSources(ctx context.Context, opts LoadOptions, decl []pipeline.Declared) *described {
	popts := opts.pipeline(decl, true)
	popts.SourcesOnly = true
	pipe, err := pipeline.Assemble(ctx, popts)
	if err != nil {
		return &described{warnings: []error{err}}
	}
	defer pipe.Close(ctx)
	return &described{descs: pipe.Sources.Descriptions(), warnings: pipe.Warnings, leftOut: pipe.LeftOut}
}

// schemaLookup asks a plugin for its configuration schema.
type schemaLookup struct{ opts pipeline.Options }

func (l schemaLookup) Schema(ctx context.Context, kind, name string) (schema.Schema, error) {
	impl, stop, err := pipeline.StartPlugin(ctx, l.opts, kind, name)
	if err != nil {
		return schema.Schema{}, err
	}
	defer stop()
	return overlay.PluginSchema(ctx, impl)
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

// compileRules compiles every client's <alert> rules against the alert
// types the sources declare, and reads its <alert type="down">; rules[i]
// and down[i] belong to cfg.Clients[i]. The rules of a skipped type are
// left out with a warning.
func compileRules(cfg *config.Config, descs []source.Description, skipped []string) ([][]alert.Rule, []alert.DownLimit, config.Diagnostics) {
	types := alert.TypesFrom(descs)
	rules := make([][]alert.Rule, len(cfg.Clients))
	down := make([]alert.DownLimit, len(cfg.Clients))
	var all config.Diagnostics
	for i, cl := range cfg.Clients {
		alerts := cl.Alerts
		if len(skipped) > 0 {
			alerts = slices.DeleteFunc(slices.Clone(alerts), func(a config.Alert) bool {
				if !slices.Contains(skipped, a.Type) {
					return false
				}
				all = append(all, config.Diagnostic{Severity: config.Warning, Pos: a.Pos, Field: "client " + cl.IP + " alert attribute type",
					Message: fmt.Sprintf("alert type %q is not declared by any source that started; the rule is not evaluated this round (it neither fires nor resolves)", a.Type),
					Fix:     "a source was left out of this round (see above); repair or reinstall it"})
				return true
			})
		}
		r, diags := alert.Compile(alerts, types)
		var downDiags config.Diagnostics
		down[i], downDiags = alert.CompileDown(cl.Alerts)
		diags = append(diags, downDiags...)
		for j := range diags {
			diags[j].Field = "client " + cl.IP + " " + diags[j].Field
		}
		rules[i] = r
		all = append(all, diags...)
	}
	all.Sort()
	return rules, down, all
}

// Declared lists the external plugins the configuration's overlays
// declare by path and checksum.
func (c *Config) Declared() []pipeline.Declared { return declared(c.Overlay) }

// Redactor masks every secret of the configuration in text: the SMTP
// password of email_config.json and the sensitive settings of the
// overlays' plugin blocks.
func (c *Config) Redactor() func(string) string {
	var secrets []string
	if c.Overlay != nil {
		secrets = c.Overlay.Secrets()
	}
	if c.Email != nil {
		if p := c.Email.Password.Reveal(); p != "" {
			secrets = append(secrets, p)
		}
	}
	return func(text string) string {
		for _, sec := range secrets {
			text = strings.ReplaceAll(text, sec, "********")
		}
		return text
	}
}
