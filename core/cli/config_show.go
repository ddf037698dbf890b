package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/round"
)

// masked stands for a secret in `cscs config show`.
const masked = "(sensitive)"

// configShowCommand prints the effective configuration: config.xml with
// every overlay and flag applied, secrets masked, each round setting with
// where it came from.
func configShowCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "config show")
	s.configFlags(fs)
	s.dataFlags(fs, env)
	s.roundFlags(fs)
	s.pluginsDir = s.pluginFlags(fs)
	s.overlayFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	cfg, ok := s.load(ctx, env, fs, "config show", round.Files{Inventory: s.configPath})
	if !ok {
		return ExitBadConfig
	}
	showConfig(env.Stdout, fs, &s, cfg.Inventory, cfg.Overlay)
	return ExitOK
}

// showConfig writes the effective configuration in the overlay's syntax.
func showConfig(w io.Writer, fs *flag.FlagSet, s *settings, cfg *config.Config, ov *overlay.Overlay) {
	files := []string{cfg.Path}
	if ov != nil {
		files = append(files, ov.Files...)
	}
	fmt.Fprintf(w, "# Effective configuration from %s and the command line; secrets are shown as %s.\n\n", strings.Join(files, ", "), masked)

	origin := func(flagName string, set bool, where string) string {
		switch {
		case flagGiven(fs, flagName):
			return "--" + flagName
		case set:
			return where
		}
		return "default"
	}
	var o overlay.Round
	if ov != nil {
		o = ov.Round
	}
	r := s.round
	fmt.Fprintln(w, "round {")
	rows := [][3]string{
		{"concurrency", strconv.Itoa(r.Concurrency), origin("concurrency", o.Concurrency.Set, position(o.Concurrency.Range))},
		{"max_handshakes", strconv.Itoa(r.MaxHandshakes), origin("max-handshakes", o.MaxHandshakes.Set, position(o.MaxHandshakes.Range))},
		{"max_uploads", strconv.Itoa(r.MaxUploads), origin("max-uploads", o.MaxUploads.Set, position(o.MaxUploads.Range))},
		{"connect_timeout", quote(r.ConnectTimeout), origin("connect-timeout", o.ConnectTimeout.Set, position(o.ConnectTimeout.Range))},
		{"handshake_timeout", quote(r.HandshakeTimeout), origin("handshake-timeout", o.HandshakeTimeout.Set, position(o.HandshakeTimeout.Range))},
		{"host_timeout", quote(r.HostTimeout), origin("host-timeout", o.HostTimeout.Set, position(o.HostTimeout.Range))},
		{"cpu_sample", quote(r.CPUSample), origin("cpu-sample", o.CPUSample.Set, position(o.CPUSample.Range))},
		{"alert_repeat", quote(r.AlertRepeat), origin("alert-repeat", o.AlertRepeat.Set, position(o.AlertRepeat.Range))},
		{"interval", quote(r.Interval), origin("interval", o.Interval.Set, position(o.Interval.Range))},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-17s = %-8s # %s\n", row[0], row[1], row[2])
	}
	fmt.Fprintln(w, "}")

	for _, cl := range cfg.Clients {
		fmt.Fprintf(w, "\nclient %q {\n", cl.IP+":"+strconv.Itoa(cl.Port))
		fmt.Fprintf(w, "  username = %q\n", cl.Username)
		if !cl.Password.IsZero() {
			fmt.Fprintf(w, "  password = %q\n", masked)
		}
		if cl.Key != "" {
			fmt.Fprintf(w, "  key      = %q\n", cl.Key)
		}
		if cl.Mail != "" {
			fmt.Fprintf(w, "  mail     = %q\n", cl.Mail)
		}
		for _, a := range cl.Alerts {
			fmt.Fprintf(w, "  alert %q { limit = %q } # %s\n", a.Type, a.Limit, a.Pos)
		}
		if ov == nil {
			fmt.Fprintln(w, "}")
			continue
		}
		// The os selector is decided once the host is reached.
		groups := ov.GroupsOf(cl.IP, "")
		var maybe []string
		for _, g := range ov.GroupsIfOS(cl.IP) {
			maybe = append(maybe, g.Name+" (if "+strings.Join(g.Selector.OS, " or ")+")")
		}
		fmt.Fprintf(w, "  groups   = %s\n", list(append(overlay.GroupNames(groups), maybe...)))
		if src := overlay.SourcesFor(groups); src != nil {
			fmt.Fprintf(w, "  sources  = %s\n", list(src))
		}
		fmt.Fprintln(w, "}")
	}
	if ov == nil {
		return
	}
	for _, in := range append(slices.Clone(ov.Storages), ov.Notifiers...) {
		fmt.Fprintf(w, "\n%s %q %q {\n", in.Kind, in.Plugin, in.Name)
		writeValues(w, "  ", in.Config, in.Sensitive)
		fmt.Fprintln(w, "}")
	}
	for _, p := range ov.Plugins {
		fmt.Fprintf(w, "\nplugin %q {\n  kind   = %q\n  path   = %q\n  sha256 = %q\n}\n", p.Name, p.Kind, p.Path, p.SHA256)
	}
	for _, g := range ov.Groups {
		fmt.Fprintf(w, "\ngroup %q {\n", g.Name)
		sel := g.Selector
		if len(sel.Prefixes) > 0 {
			var ps []string
			for _, p := range sel.Prefixes {
				ps = append(ps, p.String())
			}
			fmt.Fprintf(w, "  ips     = %s\n", list(ps))
		}
		if len(sel.Names) > 0 {
			fmt.Fprintf(w, "  names   = %s\n", list(sel.Names))
		}
		if len(sel.OS) > 0 {
			fmt.Fprintf(w, "  os      = %s\n", list(sel.OS))
		}
		if g.Sources != nil {
			fmt.Fprintf(w, "  sources = %s\n", list(g.Sources))
		}
		for _, m := range g.Modules {
			fmt.Fprintf(w, "  module %q {\n", m.Source)
			writeValues(w, "    ", m.Settings, m.Sensitive)
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
		fmt.Fprintf(w, "\nroute { # %s\n", position(rt.Range))
		for _, f := range []struct {
			name string
			vals []string
		}{{"kinds", rt.Kinds}, {"severity", rt.Severities}, {"groups", rt.Groups}, {"hosts", rt.Hosts}, {"notifiers", rt.Notifiers}} {
			if len(f.vals) > 0 {
				fmt.Fprintf(w, "  %-9s = %s\n", f.name, list(f.vals))
			}
		}
		fmt.Fprintln(w, "}")
	}
}

func writeAlert(w io.Writer, indent string, al overlay.Alert) {
	fmt.Fprintf(w, "%salert %q { # %s\n", indent, al.Name, position(al.Range))
	fmt.Fprintf(w, "%s  condition = %s\n", indent, al.Text)
	fmt.Fprintf(w, "%s  for       = %d\n", indent, al.For)
	fmt.Fprintf(w, "%s  severity  = %q\n", indent, al.Severity)
	if al.Repeat != 0 {
		fmt.Fprintf(w, "%s  repeat    = %s\n", indent, quote(max(al.Repeat, 0)))
	}
	fmt.Fprintf(w, "%s}\n", indent)
}

// writeValues writes a plugin block's settings, masking secrets.
func writeValues(w io.Writer, indent string, v cty.Value, secret map[string]bool) {
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

// position is where a setting is written, as file:line:column.
func position(rng hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
}

func quote(d time.Duration) string { return strconv.Quote(d.String()) }

func list(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = strconv.Quote(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
