package overlay

import (
	"fmt"
	"math/big"
	"net/netip"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// attrs evaluates attributes into Go values, collecting diagnostics.
type attrs struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (a *attrs) errorf(rng hcl.Range, summary, format string, args ...any) {
	a.diags = append(a.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// value evaluates attr and converts it to want.
func (a *attrs) value(attr *hcl.Attribute, want cty.Type) (cty.Value, bool) {
	v, d := attr.Expr.Value(a.ctx)
	a.diags = append(a.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		a.errorf(attr.Expr.Range(), "Missing value", "%s must not be null; give a %s or remove the attribute.", attr.Name, want.FriendlyName())
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		a.errorf(attr.Expr.Range(), "Unknown value", "%s depends on a value that could not be evaluated; fix the error reported for it.", attr.Name)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, want)
	if err != nil {
		a.errorf(attr.Expr.Range(), "Incorrect attribute value type", "%s must be a %s: %s.", attr.Name, want.FriendlyName(), err)
		return cty.NilVal, false
	}
	return cv, true
}

func (a *attrs) str(attr *hcl.Attribute) (string, bool) {
	v, ok := a.value(attr, cty.String)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

// int evaluates a whole number within [lo, hi].
func (a *attrs) int(attr *hcl.Attribute, lo, hi int) (int, bool) {
	v, ok := a.value(attr, cty.Number)
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() || bf.Cmp(big.NewFloat(float64(lo))) < 0 || bf.Cmp(big.NewFloat(float64(hi))) > 0 {
		a.errorf(attr.Expr.Range(), "Invalid number", "%s must be a whole number from %d to %d.", attr.Name, lo, hi)
		return 0, false
	}
	n, _ := bf.Int64()
	return int(n), true
}

// duration evaluates a Go duration string ("30s", "5m") within [lo, hi].
func (a *attrs) duration(attr *hcl.Attribute, lo, hi time.Duration) (time.Duration, bool) {
	s, ok := a.str(attr)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		a.errorf(attr.Expr.Range(), "Invalid duration", "%s = %q is not a duration; write a number with a unit, such as \"30s\", \"5m\" or \"1h\".", attr.Name, s)
		return 0, false
	}
	if d < lo || d > hi {
		a.errorf(attr.Expr.Range(), "Duration out of range", "%s = %q must be between %s and %s.", attr.Name, s, lo, hi)
		return 0, false
	}
	return d, true
}

func (a *attrs) strings(attr *hcl.Attribute) ([]string, bool) {
	v, ok := a.value(attr, cty.List(cty.String))
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, e := range v.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out, true
}

// oneOf checks that every value is among allowed.
func (a *attrs) oneOf(attr *hcl.Attribute, values []string, allowed ...string) bool {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			a.errorf(attr.Expr.Range(), "Invalid value", "%s: %q is not one of %s.", attr.Name, v, strings.Join(allowed, ", "))
			return false
		}
	}
	return true
}

// content decodes body against schema with a context.
func content(ctx *hcl.EvalContext, body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, *attrs) {
	c, d := body.Content(schema)
	return c, &attrs{ctx: ctx, diags: d}
}

func roundSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "concurrency"}, {Name: "max_handshakes"}, {Name: "max_uploads"}, {Name: "connect_timeout"}, {Name: "handshake_timeout"}, {Name: "host_timeout"},
		{Name: "cpu_sample"}, {Name: "alert_repeat"}, {Name: "interval"},
	}}
}

// decodeRound sets the round settings a round block gives; a later block
// overrides an earlier one attribute by attribute.
func (ov *Overlay) decodeRound(ctx *hcl.EvalContext, b *hcl.Block) hcl.Diagnostics {
	c, a := content(ctx, b.Body, roundSchema())
	r := &ov.Round
	counts := []struct {
		name string
		dst  *Setting[int]
	}{
		{"concurrency", &r.Concurrency},
		{"max_handshakes", &r.MaxHandshakes},
		{"max_uploads", &r.MaxUploads},
	}
	for _, n := range counts {
		if at, ok := c.Attributes[n.name]; ok {
			if v, ok := a.int(at, 1, 100000); ok {
				*n.dst = Setting[int]{Value: v, Set: true, Range: at.Range}
			}
		}
	}
	durations := []struct {
		name   string
		dst    *Setting[time.Duration]
		lo, hi time.Duration
	}{
		{"connect_timeout", &r.ConnectTimeout, time.Millisecond, time.Hour},
		{"handshake_timeout", &r.HandshakeTimeout, time.Millisecond, time.Hour},
		{"host_timeout", &r.HostTimeout, time.Millisecond, 24 * time.Hour},
		{"cpu_sample", &r.CPUSample, 0, time.Minute},
		{"alert_repeat", &r.AlertRepeat, 0, 365 * 24 * time.Hour},
		{"interval", &r.Interval, time.Second, 7 * 24 * time.Hour},
	}
	for _, d := range durations {
		if at, ok := c.Attributes[d.name]; ok {
			if v, ok := a.duration(at, d.lo, d.hi); ok {
				*d.dst = Setting[time.Duration]{Value: v, Set: true, Range: at.Range}
			}
		}
	}
	return a.diags
}

// sha256Hex matches a hex SHA-256.
var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func decodePlugin(ctx *hcl.EvalContext, b *hcl.Block, dir string) (Plugin, hcl.Diagnostics) {
	c, a := content(ctx, b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "kind", Required: true}, {Name: "path", Required: true}, {Name: "sha256"}, {Name: "dev"},
	}})
	p := Plugin{Name: b.Labels[0], Range: b.DefRange}
	if !validName(p.Name) {
		a.diags = append(a.diags, badName("plugin name", p.Name, b.LabelRanges[0]))
	}
	if at, ok := c.Attributes["kind"]; ok {
		if k, ok := a.str(at); ok && a.oneOf(at, []string{k}, "source", "storage", "notifier") {
			p.Kind = k
		}
	}
	if at, ok := c.Attributes["path"]; ok {
		if s, ok := a.str(at); ok {
			if !filepath.IsAbs(s) {
				s = filepath.Join(dir, s)
			}
			if abs, err := filepath.Abs(s); err == nil {
				s = abs
			}
			p.Path = s
		}
	}
	if at, ok := c.Attributes["sha256"]; ok {
		if s, ok := a.str(at); ok {
			s = strings.ToLower(strings.TrimSpace(s))
			if !sha256Hex.MatchString(s) {
				a.errorf(at.Expr.Range(), "Invalid checksum", "sha256 must be 64 hex digits; compute it with `sha256sum %s`.", p.Path)
			}
			p.SHA256 = s
		}
	}
	if at, ok := c.Attributes["dev"]; ok {
		if v, ok := a.value(at, cty.Bool); ok {
			p.Dev = v.True()
		}
	}
	_, pinned := c.Attributes["sha256"]
	switch {
	case p.Dev && pinned:
		a.errorf(b.DefRange, "Checksum of a development plugin", "With dev = true the plugin is not pinned: whatever is at path runs. Remove sha256, or remove dev to pin it.")
	case !p.Dev && !pinned:
		a.errorf(b.DefRange, "Missing checksum", "Pin the plugin: sha256 = \"…\" (compute it with `sha256sum %s`); or, while you develop it, set dev = true to run each rebuild unpinned (`cscs validate --strict` refuses that).", p.Path)
	}
	return p, a.diags
}

// MaxDownAfter is the most rounds in a row a group's down_after, or an
// alert's for, may count.
const MaxDownAfter = 1000

func groupSchema() *hcl.BodySchema {
	return &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "ips"}, {Name: "names"}, {Name: "os"}, {Name: "sources"}, {Name: "interval"}, {Name: "down_after"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "module", LabelNames: []string{"source"}},
			{Type: "alert", LabelNames: []string{"name"}},
		},
	}
}

func decodeGroup(ctx *hcl.EvalContext, b *hcl.Block, names registry) (Group, hcl.Diagnostics) {
	c, a := content(ctx, b.Body, groupSchema())
	g := Group{Name: b.Labels[0], Range: b.DefRange}
	if !validName(g.Name) {
		a.diags = append(a.diags, badName("group name", g.Name, b.LabelRanges[0]))
	}
	if at, ok := c.Attributes["ips"]; ok {
		if list, ok := a.strings(at); ok {
			for _, s := range list {
				p, err := parsePrefix(s)
				if err != nil {
					a.errorf(at.Expr.Range(), "Invalid address", "ips: %q is neither an address nor a CIDR range such as \"10.0.0.0/24\".", s)
					continue
				}
				g.Selector.Prefixes = append(g.Selector.Prefixes, p)
			}
		}
	}
	if at, ok := c.Attributes["names"]; ok {
		if list, ok := a.strings(at); ok {
			for _, s := range list {
				if _, err := path.Match(s, ""); err != nil {
					a.errorf(at.Expr.Range(), "Invalid pattern", "names: %q is not a valid glob pattern (*, ?, [a-z]).", s)
				}
			}
			g.Selector.Names = list
		}
	}
	if at, ok := c.Attributes["os"]; ok {
		if list, ok := a.strings(at); ok && a.oneOf(at, list, "linux", "windows", "darwin", "freebsd") {
			g.Selector.OS = list
		}
	}
	if at, ok := c.Attributes["sources"]; ok {
		if list, ok := a.strings(at); ok {
			g.Sources, g.SourcesRange = list, at.Expr.Range()
		}
	}
	if at, ok := c.Attributes["interval"]; ok {
		if v, ok := a.duration(at, time.Second, 7*24*time.Hour); ok {
			g.Interval = Setting[time.Duration]{Value: v, Set: true, Range: at.Range}
		}
	}
	if at, ok := c.Attributes["down_after"]; ok {
		if n, ok := a.int(at, 0, MaxDownAfter); ok {
			g.DownAfter = Setting[int]{Value: n, Set: true, Range: at.Range}
		}
	}
	seen := map[string]hcl.Range{}
	for _, mb := range c.Blocks {
		switch mb.Type {
		case "module":
			src := mb.Labels[0]
			if first, dup := seen[src]; dup {
				a.errorf(mb.DefRange, "Duplicate module block", "Group %q already has a module %q block at %s; merge them.", g.Name, src, first)
				continue
			}
			seen[src] = mb.DefRange
			g.Modules = append(g.Modules, Module{Source: src, Range: mb.DefRange, body: mb.Body, ctx: ctx})
		case "alert":
			if d := names.claim("alert", g.Name+"/"+mb.Labels[0], mb.DefRange); d != nil {
				a.diags = append(a.diags, d)
				continue
			}
			al, d := decodeAlert(ctx, mb, g.Name)
			a.diags = append(a.diags, d...)
			g.Alerts = append(g.Alerts, al)
		}
	}
	return g, a.diags
}

// parsePrefix reads an address or a CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

func decodeAlert(ctx *hcl.EvalContext, b *hcl.Block, group string) (Alert, hcl.Diagnostics) {
	c, a := content(ctx, b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true}, {Name: "for"}, {Name: "severity"}, {Name: "repeat"},
	}})
	al := Alert{Name: b.Labels[0], Group: group, For: 1, Severity: "warning", Range: b.DefRange, ctx: ctx}
	if !validName(al.Name) {
		a.diags = append(a.diags, badName("alert name", al.Name, b.LabelRanges[0]))
	}
	if at, ok := c.Attributes["condition"]; ok {
		al.Condition = at.Expr
	}
	if at, ok := c.Attributes["for"]; ok {
		if n, ok := a.int(at, 1, MaxDownAfter); ok {
			al.For = n
		}
	}
	if at, ok := c.Attributes["severity"]; ok {
		if s, ok := a.str(at); ok && a.oneOf(at, []string{s}, "info", "warning", "critical") {
			al.Severity = s
		}
	}
	if at, ok := c.Attributes["repeat"]; ok {
		if d, ok := a.duration(at, 0, 365*24*time.Hour); ok {
			al.Repeat = d
			if d == 0 {
				al.Repeat = -1 // every round
			}
		}
	}
	return al, a.diags
}

func decodeRoute(ctx *hcl.EvalContext, b *hcl.Block) (Route, hcl.Diagnostics) {
	c, a := content(ctx, b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "severity"}, {Name: "groups"}, {Name: "hosts"}, {Name: "kinds"}, {Name: "notifiers", Required: true},
	}})
	r := Route{Range: b.DefRange}
	if at, ok := c.Attributes["severity"]; ok {
		if l, ok := a.strings(at); ok && a.oneOf(at, l, "info", "warning", "critical") {
			r.Severities = l
		}
	}
	if at, ok := c.Attributes["groups"]; ok {
		r.Groups, _ = a.strings(at)
		r.GroupsRange = at.Expr.Range()
	}
	if at, ok := c.Attributes["hosts"]; ok {
		if l, ok := a.strings(at); ok {
			for _, h := range l {
				if _, err := parsePrefix(h); err != nil {
					if _, err := path.Match(h, ""); err != nil {
						a.errorf(at.Expr.Range(), "Invalid host pattern", "hosts: %q is neither an address, a CIDR range nor a glob pattern.", h)
					}
				}
			}
			r.Hosts = l
		}
	}
	if at, ok := c.Attributes["kinds"]; ok {
		if l, ok := a.strings(at); ok && a.oneOf(at, l, "alert", "eventlog") {
			r.Kinds = l
		}
	}
	if at, ok := c.Attributes["notifiers"]; ok {
		if l, ok := a.strings(at); ok {
			if len(l) == 0 {
				a.errorf(at.Expr.Range(), "No notifiers", "notifiers lists where matching notifications go; name at least one notifier (or %q for email_config.json).", DefaultNotifier)
			}
			r.Notifiers, r.NotifiersRange = l, at.Expr.Range()
		}
	}
	return r, a.diags
}
