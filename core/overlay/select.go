package overlay

import (
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"
)

// matchesAddress reports whether a client, by its ip attribute as
// written, matches the selector: any of its ips or names (a selector with
// neither matches every client).
func (s Selector) matchesAddress(addr string) bool {
	if len(s.Prefixes) == 0 && len(s.Names) == 0 {
		return true
	}
	if ip, err := netip.ParseAddr(addr); err == nil &&
		slices.ContainsFunc(s.Prefixes, func(p netip.Prefix) bool { return p.Contains(ip.Unmap()) }) {
		return true
	}
	return slices.ContainsFunc(s.Names, func(g string) bool { return globMatch(g, addr) })
}

// matchesOS reports whether a host of operating system goos (""
// when not known) matches the selector's os list.
func (s Selector) matchesOS(goos string) bool {
	return len(s.OS) == 0 || slices.Contains(s.OS, goos)
}

func globMatch(pattern, s string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(s))
	return err == nil && ok
}

// GroupsOf returns the groups a host belongs to, in declaration order:
// addr is the client's ip attribute, goos its operating system ("" when
// it was not reached, which only groups without an os selector match).
func (ov *Overlay) GroupsOf(addr, goos string) []*Group {
	var out []*Group
	for i := range ov.Groups {
		g := &ov.Groups[i]
		if g.Selector.matchesAddress(addr) && g.Selector.matchesOS(goos) {
			out = append(out, g)
		}
	}
	return out
}

// GroupsIfOS returns the groups with an os selector whose addresses
// match a client: it belongs to them once it is reached, if its OS is one
// of theirs.
func (ov *Overlay) GroupsIfOS(addr string) []*Group {
	var out []*Group
	for i := range ov.Groups {
		g := &ov.Groups[i]
		if len(g.Selector.OS) > 0 && g.Selector.matchesAddress(addr) {
			out = append(out, g)
		}
	}
	return out
}

// GroupNames are the names of groups.
func GroupNames(groups []*Group) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.Name
	}
	return out
}

// SourcesFor is what sources a host in groups runs: the union of the
// groups' sources lists, or nil (every source) when none has one.
func SourcesFor(groups []*Group) []string {
	var out []string
	restricted := false
	for _, g := range groups {
		if g.Sources == nil {
			continue
		}
		restricted = true
		for _, s := range g.Sources {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if restricted && out == nil {
		out = []string{}
	}
	return out
}

// IntervalFor is the collection interval of a host in groups: that of
// the last of them that sets one; ok is false when none does.
func IntervalFor(groups []*Group) (d time.Duration, ok bool) {
	for _, g := range groups {
		if g.Interval.Set {
			d, ok = g.Interval.Value, true
		}
	}
	return d, ok
}

// AlertsFor are the expression rules of a host in groups: the top-level
// ones, then each group's.
func (ov *Overlay) AlertsFor(groups []*Group) []Alert {
	out := slices.Clone(ov.Alerts)
	for _, g := range groups {
		out = append(out, g.Alerts...)
	}
	return out
}

// Notice is a notification as routes see it.
type Notice struct {
	// Kind is "alert" or "eventlog".
	Kind string
	// Severity is the worst severity of the alerts it tells about
	// ("info" for event-log mail).
	Severity string
	// Groups are the host's groups.
	Groups []string
	// Host is the client's ip attribute.
	Host string
}

// Route returns the notifiers a notification goes to: those of every
// route it matches, in order, each once; DefaultNotifier when it matches
// none.
func (ov *Overlay) Route(n Notice) []string {
	var out []string
	for _, r := range ov.Routes {
		if !r.matches(n) {
			continue
		}
		for _, name := range r.Notifiers {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	if out == nil {
		out = []string{DefaultNotifier}
	}
	return out
}

func (r Route) matches(n Notice) bool {
	switch {
	case len(r.Kinds) > 0 && !slices.Contains(r.Kinds, n.Kind):
		return false
	case len(r.Severities) > 0 && !slices.Contains(r.Severities, n.Severity):
		return false
	case len(r.Groups) > 0 && !slices.ContainsFunc(r.Groups, func(g string) bool { return slices.Contains(n.Groups, g) }):
		return false
	case len(r.Hosts) > 0 && !slices.ContainsFunc(r.Hosts, func(h string) bool { return hostMatches(h, n.Host) }):
		return false
	}
	return true
}

// hostMatches reports whether a route's hosts entry (an address, a CIDR
// range or a glob) matches a client's ip attribute.
func hostMatches(entry, addr string) bool {
	if p, err := parsePrefix(entry); err == nil {
		ip, err := netip.ParseAddr(addr)
		return err == nil && p.Contains(ip.Unmap())
	}
	return globMatch(entry, addr)
}

// DownAfter is the down_after of a host in groups: the last group, in
// declaration order, that sets it; ok is false when none does.
func DownAfter(groups []*Group) (rounds int, ok bool) {
	for _, g := range slices.Backward(groups) {
		if g.DownAfter.Set {
			return g.DownAfter.Value, true
		}
	}
	return 0, false
}
