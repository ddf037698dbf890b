package overlay

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Show writes the overlays' blocks (storages, notifiers, plugins, groups,
// alerts, routes) in the overlay's syntax, each value as it takes effect,
// sensitive ones replaced by masked; `cscs config show` prints it.
func (ov *Overlay) Show(w io.Writer, masked string) {
	for _, in := range append(slices.Clone(ov.Storages), ov.Notifiers...) {
		fmt.Fprintf(w, "\n%s %q %q {\n", in.Kind, in.Plugin, in.Name)
		writeValues(w, masked, "  ", in.Config, in.Sensitive)
		fmt.Fprintln(w, "}")
	}
	for _, p := range ov.Plugins {
		pin := fmt.Sprintf("sha256 = %q", p.SHA256)
		if p.Dev {
			pin = "dev    = true"
		}
		fmt.Fprintf(w, "\nplugin %q {\n  kind   = %q\n  path   = %q\n  %s\n}\n", p.Name, p.Kind, p.Path, pin)
	}
	for _, g := range ov.Groups {
		fmt.Fprintf(w, "\ngroup %q {\n", g.Name)
		sel := g.Selector
		if len(sel.Prefixes) > 0 {
			var ps []string
			for _, p := range sel.Prefixes {
				ps = append(ps, p.String())
			}
			fmt.Fprintf(w, "  ips     = %s\n", List(ps))
		}
		if len(sel.Names) > 0 {
			fmt.Fprintf(w, "  names   = %s\n", List(sel.Names))
		}
		if len(sel.OS) > 0 {
			fmt.Fprintf(w, "  os      = %s\n", List(sel.OS))
		}
		if g.Sources != nil {
			fmt.Fprintf(w, "  sources = %s\n", List(g.Sources))
		}
		if g.Interval.Set {
			fmt.Fprintf(w, "  interval = %s\n", Quote(g.Interval.Value))
		}
		if g.DownAfter.Set {
			fmt.Fprintf(w, "  down_after = %d\n", g.DownAfter.Value)
		}
		for _, m := range g.Modules {
			fmt.Fprintf(w, "  module %q {\n", m.Source)
			writeValues(w, masked, "    ", m.Settings, m.Sensitive)
			fmt.Fprintln(w, "  }")
		}
		for _, al := range g.Alerts {
			writeAlert(w, "  ", al)
		}
		fmt.Fprintln(w, "}")
	}
	for _, al := range ov.Alerts {
		fmt.Fprintln(w)
		writeAlert(w, "", al)
	}
	for _, rt := range ov.Routes {
		fmt.Fprintf(w, "\nroute { # %s\n", Position(rt.Range))
		for _, f := range []struct {
			name string
			vals []string
		}{{"kinds", rt.Kinds}, {"severity", rt.Severities}, {"groups", rt.Groups}, {"hosts", rt.Hosts}, {"notifiers", rt.Notifiers}} {
			if len(f.vals) > 0 {
				fmt.Fprintf(w, "  %-9s = %s\n", f.name, List(f.vals))
			}
		}
		fmt.Fprintln(w, "}")
	}
}

func writeAlert(w io.Writer, indent string, al Alert) {
	fmt.Fprintf(w, "%salert %q { # %s\n", indent, al.Name, Position(al.Range))
	fmt.Fprintf(w, "%s  condition = %s\n", indent, al.Text)
	fmt.Fprintf(w, "%s  for       = %d\n", indent, al.For)
	fmt.Fprintf(w, "%s  severity  = %q\n", indent, al.Severity)
	if al.Repeat != 0 {
		fmt.Fprintf(w, "%s  repeat    = %s\n", indent, Quote(max(al.Repeat, 0)))
	}
	fmt.Fprintf(w, "%s}\n", indent)
}

// writeValues writes a plugin block's settings, masking secrets.
func writeValues(w io.Writer, masked, indent string, v cty.Value, secret map[string]bool) {
	if v == cty.NilVal || v.IsNull() {
		return
	}
	m := v.AsValueMap()
	for _, name := range slices.Sorted(maps.Keys(m)) {
		av := m[name]
		if av.IsNull() {
			continue
		}
		text := strconv.Quote(masked)
		if !secret[name] {
			raw, err := json.Marshal(ctyJSON(av))
			if err != nil {
				text = "?"
			} else {
				text = string(raw)
			}
		}
		fmt.Fprintf(w, "%s%s = %s\n", indent, name, text)
	}
}

// ctyJSON turns a plain cty value into Go values for printing.
func ctyJSON(v cty.Value) any {
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	case t == cty.Bool:
		return v.True()
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		out := []any{}
		for _, e := range v.AsValueSlice() {
			out = append(out, ctyJSON(e))
		}
		return out
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for k, e := range v.AsValueMap() {
			out[k] = ctyJSON(e)
		}
		return out
	}
	return nil
}

// Position is where a setting is written, as file:line:column.
func Position(rng hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
}

// Quote is d as an HCL string ("5s").
func Quote(d time.Duration) string { return strconv.Quote(d.String()) }

// List is items as an HCL list of strings.
func List(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = strconv.Quote(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
