package overlay

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/cscs-dev/cscs/core/internal/suggest"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// SchemaLookup finds the configuration schema a storage or notifier
// plugin declares: a built-in, a plugin declared in the overlay, or one
// installed with `cscs plugins install`.
type SchemaLookup interface {
	Schema(ctx context.Context, kind, plugin string) (schema.Schema, error)
}

// ResolveOptions are what Resolve checks the overlay against.
type ResolveOptions struct {
	Schemas SchemaLookup
	// Sources describe the round's sources: their names, metrics and
	// module settings.
	Sources []source.Description
	// IsBuiltin reports whether a plugin of kind is built in; a plugin
	// block may not take a built-in's name. Nil checks nothing.
	IsBuiltin func(kind, name string) bool
	// LeftOut are the sources that could not be started or did not
	// describe themselves, by name, with why.
	LeftOut map[string]error
	// LeaveOut reports whether a plugin that failed with err is left out
	// of the round (a warning: the round goes on without it, and what
	// needs it is skipped) rather than an error; a left-out source always
	// is. Nil makes every failure an error, as `cscs validate` reports it.
	LeaveOut func(err error) bool
}

// leftOut is the diagnostic for a use of a plugin that failed with err:
// a warning saying what is skipped when opts leave it out, else an error.
func (opts ResolveOptions) leftOut(summary string, err error, skipped string, rng hcl.Range) *hcl.Diagnostic {
	if opts.LeaveOut == nil || !opts.LeaveOut(err) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: err.Error(), Subject: rng.Ptr()}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary + ": left out of this round",
		Detail: strings.TrimSuffix(err.Error(), ".") + ". " + skipped, Subject: rng.Ptr()}
}

// leftOutSource is the diagnostic for a use of source name when it is
// left out of the round, or nil.
func (opts ResolveOptions) leftOutSource(name, skipped string, rng hcl.Range) *hcl.Diagnostic {
	err, ok := opts.LeftOut[name]
	if !ok {
		return nil
	}
	summary := fmt.Sprintf("Cannot use source %q", name)
	if opts.LeaveOut == nil {
		return opts.leftOut(summary, err, skipped, rng)
	}
	// Its error was told once, where the source was left out.
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary + ": left out of this round",
		Detail: "It could not be started or described (see above). " + skipped, Subject: rng.Ptr()}
}

// Resolve decodes the plugin blocks against the schemas their plugins
// declare and checks the names of sources and metrics that groups and
// alert conditions use.
func (ov *Overlay) Resolve(ctx context.Context, opts ResolveOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range ov.Plugins {
		if opts.IsBuiltin != nil && opts.IsBuiltin(p.Kind, p.Name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plugin name taken by a built-in",
				Detail:  fmt.Sprintf("%q is the name of a built-in %s plugin, which would be used instead; give this plugin another name.", p.Name, p.Kind),
				Subject: p.Range.Ptr()})
		}
	}
	for _, list := range [][]Instance{ov.Storages, ov.Notifiers} {
		for i := range list {
			in := &list[i]
			sch, err := opts.Schemas.Schema(ctx, in.Kind, in.Plugin)
			if err != nil {
				skipped := fmt.Sprintf("The round goes on: its copy of each round is spooled and stored in %s %q once the plugin works.", in.Kind, in.Name)
				if in.Kind == "notifier" {
					skipped = fmt.Sprintf("The round goes on: notifications routed to notifier %q wait in the outbox until the plugin works.", in.Name)
				}
				d := opts.leftOut(fmt.Sprintf("Cannot use %s plugin %q", in.Kind, in.Plugin), err, skipped, in.Range)
				if d.Severity == hcl.DiagWarning {
					in.LeftOut = err
				}
				diags = append(diags, d)
				continue
			}
			var d hcl.Diagnostics
			in.Config, in.Sensitive, d = decodeWithSchema(in.ctx, in.body, sch)
			diags = append(diags, d...)
		}
	}
	byName := make(map[string]source.Description, len(opts.Sources))
	var names []string
	for _, s := range opts.Sources {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	for gi := range ov.Groups {
		g := &ov.Groups[gi]
		for _, s := range g.Sources {
			if d := opts.leftOutSource(s, fmt.Sprintf("Group %q runs its other sources.", g.Name), g.SourcesRange); d != nil {
				diags = append(diags, d)
			} else if _, ok := byName[s]; !ok {
				diags = append(diags, unknownName("source", s, names, g.SourcesRange))
			}
		}
		for mi := range g.Modules {
			m := &g.Modules[mi]
			if d := opts.leftOutSource(m.Source, "Its module settings are not used.", m.Range); d != nil {
				diags = append(diags, d)
				continue
			}
			desc, ok := byName[m.Source]
			if !ok {
				diags = append(diags, unknownName("source", m.Source, names, m.Range))
				continue
			}
			var d hcl.Diagnostics
			m.Settings, m.Sensitive, d = decodeWithSchema(m.ctx, m.body, desc.Settings)
			diags = append(diags, d...)
		}
		for _, al := range g.Alerts {
			diags = append(diags, opts.checkCondition(al)...)
		}
	}
	for _, al := range ov.Alerts {
		diags = append(diags, opts.checkCondition(al)...)
	}
	return diags
}

// ctyType is the value type of a schema attribute type.
func ctyType(t schema.Type) cty.Type {
	switch t {
	case schema.Number:
		return cty.Number
	case schema.Bool:
		return cty.Bool
	case schema.ListOfString:
		return cty.List(cty.String)
	case schema.ListOfNumber:
		return cty.List(cty.Number)
	case schema.MapOfString:
		return cty.Map(cty.String)
	}
	return cty.String // String and Duration
}

// decodeWithSchema decodes a plugin block's body: unknown attributes,
// missing required ones, wrong types and bad durations are diagnostics at
// their place. Sensitive names the attributes the schema marks sensitive
// or whose value came from env(), file() or a sensitive variable.
func decodeWithSchema(ctx *hcl.EvalContext, body hcl.Body, sch schema.Schema) (cty.Value, map[string]bool, hcl.Diagnostics) {
	spec := hcldec.ObjectSpec{}
	for _, a := range sch.Attributes {
		spec[a.Name] = &hcldec.AttrSpec{Name: a.Name, Type: ctyType(a.Type), Required: a.Required}
	}
	v, diags := hcldec.Decode(body, spec, ctx)
	if diags.HasErrors() {
		return cty.NilVal, nil, diags
	}
	secret := map[string]bool{}
	attrs, _ := body.JustAttributes()
	for _, a := range sch.Attributes {
		av := v.GetAttr(a.Name)
		if a.Sensitive || av.ContainsMarked() {
			secret[a.Name] = true
		}
		if a.Type != schema.Duration || av.IsNull() {
			continue
		}
		s, _ := av.Unmark()
		if _, err := time.ParseDuration(s.AsString()); err != nil {
			var rng *hcl.Range
			if at, ok := attrs[a.Name]; ok {
				rng = at.Expr.Range().Ptr()
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid duration",
				Detail:  fmt.Sprintf("%s = %q is not a duration; write a number with a unit, such as \"30s\" or \"5m\".", a.Name, s.AsString()),
				Subject: rng})
		}
	}
	v, _ = v.UnmarkDeep()
	return v, secret, diags
}

// configJSON is a decoded plugin configuration as the JSON object the
// plugin receives; attributes left unset are omitted.
func configJSON(v cty.Value) ([]byte, error) {
	out := map[string]json.RawMessage{}
	if v == cty.NilVal || v.IsNull() {
		return []byte("{}"), nil
	}
	for name, av := range v.AsValueMap() {
		if av.IsNull() {
			continue
		}
		raw, err := ctyjson.Marshal(av, av.Type())
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
		out[name] = raw
	}
	return json.Marshal(out)
}

// JSON is the instance's configuration for its plugin.
func (in Instance) JSON() ([]byte, error) { return configJSON(in.Config) }

// JSON is the module's settings for the agent.
func (m Module) JSON() ([]byte, error) { return configJSON(m.Settings) }

// hostAttrs are the attributes of `host` in alert conditions.
func hostAttrs() []string { return []string{"ip", "port", "hostname", "os", "arch"} }

// checkCondition checks that every name an alert's condition uses is a
// metric some source declares (or var., local., host.), and that the
// condition gives true or false. A condition that names a source left out
// of the round is not checked further: it has no value (it neither fires
// nor resolves) until the source is back.
func (opts ResolveOptions) checkCondition(al Alert) hcl.Diagnostics {
	if al.Condition == nil {
		return nil
	}
	for _, t := range al.Condition.Variables() {
		skipped := fmt.Sprintf("Alert %q is not evaluated: it neither fires nor resolves until the source is back.", al.Name)
		if d := opts.leftOutSource(t.RootName(), skipped, t.SourceRange()); d != nil {
			return hcl.Diagnostics{d}
		}
	}
	descs := opts.Sources
	metrics := map[string]bool{}
	var sources []string
	for _, d := range descs {
		sources = append(sources, d.Name)
		for _, m := range d.Metrics {
			metrics[m.Name] = true
		}
	}
	var diags hcl.Diagnostics
	for _, t := range al.Condition.Variables() {
		root := t.RootName()
		rng := t.SourceRange().Ptr()
		if n, ok := numericStep(t); ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Metric part is a number",
				Detail:  fmt.Sprintf("A part of a metric name that is a number is written in brackets: %s[%q], not %s.%s.", root, n, root, n),
				Subject: rng})
			continue
		}
		switch {
		case root == "var" || root == "local" || root == "labels":
			continue
		case root == "host":
			if name := attrPath(t); !slices.Contains(hostAttrs(), name) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown host attribute",
					Detail: fmt.Sprintf("host has no attribute %q; use one of %s.", name, strings.Join(hostAttrs(), ", ")), Subject: rng})
			}
		case !slices.Contains(sources, root):
			diags = append(diags, unknownName("source", root, sources, *rng))
		default:
			name := root + "." + attrPath(t)
			if !metrics[name] {
				var own []string
				for m := range metrics {
					if strings.HasPrefix(m, root+".") {
						own = append(own, m)
					}
				}
				slices.Sort(own)
				detail := fmt.Sprintf("Source %s has no metric %q.", root, name)
				if c := suggest.Closest(name, own); c != "" {
					detail += fmt.Sprintf(" Did you mean %s?", Reference(c))
				}
				refs := make([]string, len(own))
				for i, m := range own {
					refs[i] = Reference(m)
				}
				detail += " Its metrics: " + strings.Join(refs, ", ") + "."
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown metric", Detail: detail, Subject: rng})
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	// With every metric unknown, the condition must still be a bool.
	probe := map[string]float64{}
	for m := range metrics {
		probe[m] = 0
	}
	v, d := al.Condition.Value(evalContext(al, Facts{}, probe, true))
	diags = append(diags, d...)
	if !d.HasErrors() && !v.Type().Equals(cty.Bool) && v.Type() != cty.DynamicPseudoType {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Condition is not true or false",
			Detail:  fmt.Sprintf("The condition gives a %s; write a comparison such as memory.used_percent > 90.", v.Type().FriendlyName()),
			Subject: al.Condition.Range().Ptr()})
	}
	return diags
}

// attrPath joins a traversal's steps after its root with dots: attribute
// steps and string index steps (load["5"] for the metric load.5).
func attrPath(t hcl.Traversal) string {
	var parts []string
	for _, step := range t[1:] {
		switch st := step.(type) {
		case hcl.TraverseAttr:
			parts = append(parts, st.Name)
		case hcl.TraverseIndex:
			if !st.Key.IsKnown() || st.Key.Type() != cty.String {
				return strings.Join(parts, ".")
			}
			parts = append(parts, st.Key.AsString())
		default:
			return strings.Join(parts, ".")
		}
	}
	return strings.Join(parts, ".")
}

// numericStep finds a step like load.1, which HCL reads as an index by
// the number 1; it returns the number as written.
func numericStep(t hcl.Traversal) (string, bool) {
	for _, step := range t[1:] {
		if ix, ok := step.(hcl.TraverseIndex); ok && ix.Key.IsKnown() && ix.Key.Type() == cty.Number {
			return ix.Key.AsBigFloat().Text('f', -1), true
		}
	}
	return "", false
}

// Reference is how a condition names metric: memory.used_percent, or
// load["5"] for a part that is not an identifier.
func Reference(metric string) string {
	parts := strings.Split(metric, ".")
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		if hclsyntax.ValidIdentifier(p) {
			b.WriteString("." + p)
		} else {
			fmt.Fprintf(&b, "[%q]", p)
		}
	}
	return b.String()
}

// Secrets are the string values of every sensitive setting of the plugin
// blocks (inside lists and maps too), for masking them in messages.
func (ov *Overlay) Secrets() []string {
	var out []string
	add := func(v cty.Value, secret map[string]bool) {
		if v == cty.NilVal || v.IsNull() || !v.Type().IsObjectType() {
			return
		}
		for name := range secret {
			if v.Type().HasAttribute(name) {
				out = append(out, stringLeaves(v.GetAttr(name))...)
			}
		}
	}
	for _, in := range append(slices.Clone(ov.Storages), ov.Notifiers...) {
		add(in.Config, in.Sensitive)
	}
	for _, g := range ov.Groups {
		for _, m := range g.Modules {
			add(m.Settings, m.Sensitive)
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

func stringLeaves(v cty.Value) []string {
	switch {
	case v.IsNull() || !v.IsKnown():
		return nil
	case v.Type() == cty.String:
		return []string{v.AsString()}
	case v.Type().IsListType() || v.Type().IsMapType() || v.Type().IsObjectType() || v.Type().IsTupleType() || v.Type().IsSetType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, stringLeaves(e)...)
		}
		return out
	}
	return nil
}

// PluginSchema asks a storage or notifier plugin (as launched or made in
// process) for the configuration schema it declares.
func PluginSchema(ctx context.Context, impl any) (schema.Schema, error) {
	switch p := impl.(type) {
	case storage.Storage:
		d, err := p.Describe(ctx)
		return d.Config, err
	case notifier.Notifier:
		d, err := p.Describe(ctx)
		return d.Config, err
	}
	return schema.Schema{}, fmt.Errorf("a %T is neither a storage nor a notifier plugin and has no configuration", impl)
}
