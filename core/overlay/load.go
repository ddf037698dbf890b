package overlay

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/cscs-dev/cscs/core/internal/suggest"
)

// Options tune Load.
type Options struct {
	// Env looks up environment variables for env(); nil means
	// os.LookupEnv.
	Env func(name string) (string, bool)
	// Vars set variables, overriding their defaults (from --var
	// name=value); values are strings.
	Vars map[string]string
}

// Files expands the overlay paths given: a file stands for itself, a
// directory for every *.hcl file in it, in name order.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("overlay %s: %w", p, err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.hcl"))
		if err != nil {
			return nil, fmt.Errorf("overlay directory %s: %w", p, err)
		}
		sort.Strings(matches)
		out = append(out, matches...)
	}
	return out, nil
}

// topSchema is what an overlay file may hold at its top level.
func topSchema() *hcl.BodySchema {
	return &hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "variable", LabelNames: []string{"name"}},
			{Type: "locals"},
			{Type: "round"},
			{Type: "plugin", LabelNames: []string{"name"}},
			{Type: "storage", LabelNames: []string{"plugin", "name"}},
			{Type: "notifier", LabelNames: []string{"plugin", "name"}},
			{Type: "group", LabelNames: []string{"name"}},
			{Type: "alert", LabelNames: []string{"name"}},
			{Type: "route"},
		},
	}
}

// parsed is one file's top-level blocks.
type parsed struct {
	path    string
	ctx     *hcl.EvalContext
	content *hcl.BodyContent
}

// Load reads the overlay files in precedence order and merges them. The
// returned diagnostics carry file, line and column, and come in that
// order (files in the order given), the same on every run; with errors
// the overlay is partial and must not be used. Plugin bodies still need
// Resolve.
func Load(files []string, opts Options) (*Overlay, hcl.Diagnostics) {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	ov := &Overlay{Files: files}
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	base := &hcl.EvalContext{Variables: map[string]cty.Value{}}
	var all []parsed
	for _, path := range files {
		f, d := parser.ParseHCLFile(path)
		diags = append(diags, d...)
		if f == nil {
			continue
		}
		content, d := f.Body.Content(topSchema())
		diags = append(diags, d...)
		ctx := base.NewChild()
		ctx.Functions = functions(filepath.Dir(path), opts.Env)
		all = append(all, parsed{path: path, ctx: ctx, content: content})
	}
	ov.sources = parser.Files()

	d := evalVariables(all, base, opts.Vars)
	diags = append(diags, d...)
	if d.HasErrors() {
		return ov, sortDiagnostics(files, diags)
	}
	names := newRegistry()
	for _, p := range all {
		for _, b := range p.content.Blocks {
			diags = append(diags, ov.decodeBlock(p, b, names)...)
		}
	}
	diags = append(diags, ov.checkRefs()...)
	ov.fillTexts()
	return ov, sortDiagnostics(files, diags)
}

// sortDiagnostics orders diags by file (in the order of files), line and
// column, those without a place first, keeping the order of diagnostics
// at the same place. HCL reports some problems of a body (such as
// unexpected arguments) in map order, which differs from run to run.
func sortDiagnostics(files []string, diags hcl.Diagnostics) hcl.Diagnostics {
	fileIndex := func(d *hcl.Diagnostic) int {
		if d.Subject == nil {
			return -1
		}
		if i := slices.Index(files, d.Subject.Filename); i >= 0 {
			return i
		}
		return len(files)
	}
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		if c := cmp.Compare(fileIndex(a), fileIndex(b)); c != 0 || a.Subject == nil {
			return c
		}
		return cmp.Or(cmp.Compare(a.Subject.Filename, b.Subject.Filename),
			cmp.Compare(a.Subject.Start.Line, b.Subject.Start.Line), cmp.Compare(a.Subject.Start.Column, b.Subject.Start.Column))
	})
	return diags
}

// fillTexts sets each alert's Text from the source of its condition, and
// the metrics it names.
func (ov *Overlay) fillTexts() {
	fill := func(al *Alert) {
		if al.Condition == nil {
			return
		}
		al.metrics = conditionMetrics(*al)
		rng := al.Condition.Range()
		if f, ok := ov.sources[rng.Filename]; ok {
			al.Text = strings.Join(strings.Fields(string(rng.SliceBytes(f.Bytes))), " ")
		}
	}
	for i := range ov.Alerts {
		fill(&ov.Alerts[i])
	}
	for g := range ov.Groups {
		for i := range ov.Groups[g].Alerts {
			fill(&ov.Groups[g].Alerts[i])
		}
	}
}

// registry finds second declarations of named blocks.
type registry map[string]hcl.Range

func newRegistry() registry { return make(registry) }

// claim records kind+name at rng, or returns an error pointing at the
// first declaration.
func (r registry) claim(kind, name string, rng hcl.Range) *hcl.Diagnostic {
	key := kind + "\x00" + name
	if first, ok := r[key]; ok {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s %q", kind, name),
			Detail:   fmt.Sprintf("A %s named %q is already declared at %s. Names must be unique across all overlay files; rename or remove one of them.", kind, name, first),
			Subject:  rng.Ptr(),
		}
	}
	r[key] = rng
	return nil
}

func (ov *Overlay) decodeBlock(p parsed, b *hcl.Block, names registry) hcl.Diagnostics {
	var diags hcl.Diagnostics
	claim := func(kind, name string) bool {
		if d := names.claim(kind, name, b.DefRange); d != nil {
			diags = append(diags, d)
			return false
		}
		return true
	}
	switch b.Type {
	case "variable", "locals":
		// evaluated by evalVariables
	case "round":
		diags = append(diags, ov.decodeRound(p.ctx, b)...)
	case "plugin":
		if claim("plugin", b.Labels[0]) {
			pl, d := decodePlugin(p.ctx, b, filepath.Dir(p.path))
			diags = append(diags, d...)
			ov.Plugins = append(ov.Plugins, pl)
		}
	case "storage", "notifier":
		if !validName(b.Labels[1]) {
			diags = append(diags, badName(b.Type+" name", b.Labels[1], b.LabelRanges[1]))
		} else if claim(b.Type, b.Labels[1]) {
			in := Instance{Kind: b.Type, Plugin: b.Labels[0], Name: b.Labels[1], Range: b.DefRange, body: b.Body, ctx: p.ctx}
			if b.Type == "storage" {
				ov.Storages = append(ov.Storages, in)
			} else {
				ov.Notifiers = append(ov.Notifiers, in)
			}
		}
	case "group":
		if claim("group", b.Labels[0]) {
			g, d := decodeGroup(p.ctx, b, names)
			diags = append(diags, d...)
			ov.Groups = append(ov.Groups, g)
		}
	case "alert":
		if claim("alert", b.Labels[0]) {
			a, d := decodeAlert(p.ctx, b, "")
			diags = append(diags, d...)
			ov.Alerts = append(ov.Alerts, a)
		}
	case "route":
		r, d := decodeRoute(p.ctx, b)
		diags = append(diags, d...)
		ov.Routes = append(ov.Routes, r)
	}
	return diags
}

// checkRefs checks the names routes use.
func (ov *Overlay) checkRefs() hcl.Diagnostics {
	var diags hcl.Diagnostics
	notifiers := []string{DefaultNotifier}
	for _, n := range ov.Notifiers {
		notifiers = append(notifiers, n.Name)
	}
	var groups []string
	for _, g := range ov.Groups {
		groups = append(groups, g.Name)
	}
	for _, r := range ov.Routes {
		for _, n := range r.Notifiers {
			if !slices.Contains(notifiers, n) {
				diags = append(diags, unknownName("notifier", n, notifiers, r.NotifiersRange))
			}
		}
		for _, g := range r.Groups {
			if !slices.Contains(groups, g) {
				diags = append(diags, unknownName("group", g, groups, r.GroupsRange))
			}
		}
	}
	return diags
}

// DefaultNotifier names, in routes, the SMTP sender of email_config.json
// (the notifier used when no route matches).
const DefaultNotifier = "email"

func unknownName(kind, name string, known []string, rng hcl.Range) *hcl.Diagnostic {
	detail := fmt.Sprintf("No %s named %q is declared.", kind, name)
	if kind == "source" {
		detail = fmt.Sprintf("No source named %q is built in or installed.", name)
	}
	if c := suggest.Closest(name, known); c != "" {
		detail += fmt.Sprintf(" Did you mean %q?", c)
	}
	if len(known) > 0 {
		detail += " Known: " + strings.Join(known, ", ") + "."
	} else {
		detail += fmt.Sprintf(" Declare a %s block first.", kind)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown " + kind, Detail: detail, Subject: rng.Ptr()}
}

// validName reports whether s is a lower_snake_case name (digits and
// hyphens allowed after the first letter).
func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func badName(what, name string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + what,
		Detail:  fmt.Sprintf("%q is not a valid %s: use lower-case letters, digits, '_' and '-', starting with a letter.", name, what),
		Subject: rng.Ptr()}
}
