package overlay

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// sensitive marks values that came from env() or file(), or from a
// variable declared sensitive; `cscs config show` masks them.
const sensitive = "sensitive"

// maxSecretFile bounds what file() reads.
const maxSecretFile = 1 << 20

// functions are the functions overlay expressions may call; file() reads
// relative to dir, the overlay file's directory.
func functions(dir string, lookupEnv func(string) (string, bool)) map[string]function.Function {
	return map[string]function.Function{
		"env": secretFunc("The value of an environment variable of the core; an error when it is not set.", "name",
			func(name string) (string, error) {
				v, ok := lookupEnv(name)
				if !ok || v == "" {
					return "", fmt.Errorf("environment variable %s is not set or empty; export it before running cscs", name)
				}
				return v, nil
			}),
		"file": secretFunc("The content of a file (relative to the overlay file), without one trailing newline.", "path",
			func(p string) (string, error) { return readSecretFile(dir, p) }),
		"min":   stdlib.MinFunc,
		"max":   stdlib.MaxFunc,
		"abs":   stdlib.AbsoluteFunc,
		"lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc,
	}
}

// secretFunc is a function of one string argument, named param, whose
// result is what read gives for it, marked sensitive.
func secretFunc(description, param string, read func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Description: description,
		Params:      []function.Parameter{{Name: param, Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := read(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(v).Mark(sensitive), nil
		},
	})
}

// readSecretFile is file(p): the content of p (relative to dir, or to the
// home directory when it starts with ~/) without one trailing newline.
func readSecretFile(dir, p string) (string, error) {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	} else if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
	defer f.Close()
	// A device or special file has no size to check first (file("/dev/zero")
	// never ends): the read itself is bounded.
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s is more than %d bytes; file() reads at most %d", p, maxSecretFile, maxSecretFile)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"), nil
}

// evalVariables evaluates every variable and local and puts them in base
// as var.NAME and local.NAME.
func evalVariables(all []parsed, base *hcl.EvalContext, set map[string]string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	vars := map[string]cty.Value{}
	declared := map[string]hcl.Range{}
	varSchema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	}}
	locals := map[string]localDef{}
	for _, p := range all {
		for _, b := range p.content.Blocks {
			switch b.Type {
			case "variable":
				name := b.Labels[0]
				if first, dup := declared[name]; dup {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate variable %q", name),
						Detail: fmt.Sprintf("Variable %q is already declared at %s; remove one of them.", name, first), Subject: b.DefRange.Ptr()})
					continue
				}
				declared[name] = b.DefRange
				content, d := b.Body.Content(varSchema)
				diags = append(diags, d...)
				v, d := variableValue(name, content, p.ctx, set, b.DefRange)
				diags = append(diags, d...)
				vars[name] = v
			case "locals":
				attrs, d := b.Body.JustAttributes()
				diags = append(diags, d...)
				for name, a := range attrs {
					if l, dup := locals[name]; dup {
						diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate local %q", name),
							Detail: fmt.Sprintf("Local %q is already defined at %s; remove one of them.", name, l.attr.Range), Subject: a.Range.Ptr()})
						continue
					}
					locals[name] = localDef{attr: a, ctx: p.ctx}
				}
			}
		}
	}
	for name := range set {
		if _, ok := vars[name]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("--var sets %q, but no overlay file declares variable %q; declare it with a variable block or fix the name.", name, name)})
		}
	}
	base.Variables["var"] = cty.ObjectVal(vars)

	// Locals may refer to each other: evaluate in passes, each taking the
	// locals whose references are all known.
	done := map[string]cty.Value{}
	for len(done) < len(locals) {
		progress := false
		for name, l := range locals {
			if _, ok := done[name]; ok || !localsKnown(l.attr.Expr, done, locals) {
				continue
			}
			base.Variables["local"] = cty.ObjectVal(done)
			v, d := l.attr.Expr.Value(l.ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				v = cty.DynamicVal
			}
			done[name] = v
			progress = true
		}
		if !progress {
			for _, name := range slices.Sorted(maps.Keys(locals)) {
				l := locals[name]
				if _, ok := done[name]; !ok {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Local refers to itself",
						Detail:  fmt.Sprintf("local.%s depends on itself through other locals; break the cycle.", name),
						Subject: l.attr.Range.Ptr()})
				}
			}
			break
		}
	}
	base.Variables["local"] = cty.ObjectVal(done)
	return diags
}

// localDef is a local's expression and the context of its file.
type localDef struct {
	attr *hcl.Attribute
	ctx  *hcl.EvalContext
}

// localsKnown reports whether every local expr refers to is evaluated
// (references to undeclared locals count as known: evaluation reports
// them).
func localsKnown(expr hcl.Expression, done map[string]cty.Value, declared map[string]localDef) bool {
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		attr, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		if _, isDeclared := declared[attr.Name]; !isDeclared {
			continue
		}
		if _, ok := done[attr.Name]; !ok {
			return false
		}
	}
	return true
}

// variableValue is a variable's value: set by --var, else its default.
func variableValue(name string, content *hcl.BodyContent, ctx *hcl.EvalContext, set map[string]string, rng hcl.Range) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	secret := false
	if a, ok := content.Attributes["sensitive"]; ok {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() {
			secret = v.True()
		} else if !d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid sensitive",
				Detail: "sensitive takes true or false.", Subject: a.Expr.Range().Ptr()})
		}
	}
	var v cty.Value
	if s, ok := set[name]; ok {
		v = cty.StringVal(s)
	} else if a, ok := content.Attributes["default"]; ok {
		var d hcl.Diagnostics
		v, d = a.Expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
	} else {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Variable without value",
			Detail:  fmt.Sprintf("Variable %q has no default; give one, or set it with --var %s=VALUE.", name, name),
			Subject: rng.Ptr()})
		v = cty.DynamicVal
	}
	if secret {
		v = v.Mark(sensitive)
	}
	return v, diags
}
