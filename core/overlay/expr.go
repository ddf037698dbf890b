package overlay

import (
	"math"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Facts are what an alert condition knows about the host as `host`.
type Facts struct {
	IP       string
	Port     int
	Hostname string
	OS       string
	Arch     string
	// Labels are the labels of the sample a rule is decided on, for a
	// rule on one file system or interface (see alert.ForSeries); the
	// condition reads them as `labels`. Nil otherwise.
	Labels map[string]string
}

// Holds evaluates the rule's condition on one host's samples (metric name
// to value). ok is false when the condition cannot be decided this round:
// a metric it uses is missing or not a number, or it does not give true
// or false. Such a rule neither fires nor resolves.
func (al Alert) Holds(f Facts, samples map[string]float64) (holds, ok bool) {
	// Every metric must be there: && and || would otherwise decide from
	// one side and resolve (or fire) a rule on half the facts.
	for _, m := range al.metrics {
		if v, found := samples[m]; !found || math.IsNaN(v) || math.IsInf(v, 0) {
			return false, false
		}
	}
	v, diags := al.Condition.Value(evalContext(al, f, samples, false))
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || !v.Type().Equals(cty.Bool) {
		return false, false
	}
	v, _ = v.Unmark()
	return v.True(), true
}

// Metrics are the metrics the condition names, in order of appearance.
func (al Alert) Metrics() []string { return slices.Clone(al.metrics) }

// FirstMetric is the first metric the condition names (for the value a
// mail shows), or "".
func (al Alert) FirstMetric() string {
	if len(al.metrics) > 0 {
		return al.metrics[0]
	}
	return ""
}

// conditionMetrics are the metrics a condition names, in order of
// appearance, each once.
func conditionMetrics(al Alert) []string {
	if al.Condition == nil {
		return nil
	}
	var out []string
	for _, t := range al.Condition.Variables() {
		switch t.RootName() {
		case "var", "local", "host", "labels":
			continue
		}
		if p := attrPath(t); p != "" && !slices.Contains(out, t.RootName()+"."+p) {
			out = append(out, t.RootName()+"."+p)
		}
	}
	return out
}

// evalContext makes the variables of a condition: host, and one object
// per source holding the metrics the condition names (nested by the dots
// of their names). With unknown set every metric is an unknown number,
// for type checks.
func evalContext(al Alert, f Facts, samples map[string]float64, unknown bool) *hcl.EvalContext {
	parent := al.ctx
	if parent == nil {
		parent = &hcl.EvalContext{}
	}
	ctx := parent.NewChild()
	tree := map[string]any{}
	for _, name := range al.metrics {
		v, found := samples[name]
		if !found || math.IsNaN(v) || math.IsInf(v, 0) {
			continue // missing, as far as the condition is concerned
		}
		val := cty.NumberFloatVal(v)
		if unknown {
			val = cty.UnknownVal(cty.Number)
		}
		insert(tree, strings.Split(name, "."), val)
	}
	vars := make(map[string]cty.Value, len(tree)+1)
	for k, v := range tree {
		vars[k] = toValue(v)
	}
	host := cty.ObjectVal(map[string]cty.Value{
		"ip": cty.StringVal(f.IP), "port": cty.NumberIntVal(int64(f.Port)), "hostname": cty.StringVal(f.Hostname),
		"os": cty.StringVal(f.OS), "arch": cty.StringVal(f.Arch),
	})
	if unknown {
		host = cty.UnknownVal(host.Type())
	}
	vars["host"] = host
	vars["labels"] = labelsValue(f.Labels, unknown)
	ctx.Variables = vars
	return ctx
}

// labelsValue is the `labels` of a condition: a map of strings, empty for
// a rule not on a labelled sample; unknown for type checks.
func labelsValue(labels map[string]string, unknown bool) cty.Value {
	if unknown {
		return cty.UnknownVal(cty.Map(cty.String))
	}
	if len(labels) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	vals := make(map[string]cty.Value, len(labels))
	for k, v := range labels {
		vals[k] = cty.StringVal(v)
	}
	return cty.MapVal(vals)
}

// insert puts v at path in tree; a name that is both a metric and the
// prefix of another keeps the metric.
func insert(tree map[string]any, path []string, v cty.Value) {
	for i, p := range path {
		if i == len(path)-1 {
			if _, exists := tree[p]; !exists {
				tree[p] = v
			}
			return
		}
		next, ok := tree[p].(map[string]any)
		if !ok {
			if _, isLeaf := tree[p]; isLeaf {
				return
			}
			next = map[string]any{}
			tree[p] = next
		}
		tree = next
	}
}

func toValue(node any) cty.Value {
	switch n := node.(type) {
	case cty.Value:
		return n
	case map[string]any:
		attrs := make(map[string]cty.Value, len(n))
		for k, v := range n {
			attrs[k] = toValue(v)
		}
		return cty.ObjectVal(attrs)
	}
	return cty.NilVal
}
