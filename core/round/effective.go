package round

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/cscs-dev/cscs/core/overlay"
)

// Masked stands for a secret in the effective configuration.
const Masked = "(sensitive)"

// EffectiveSchema is the name and version of Effective's JSON format
// (docs/json.md).
const EffectiveSchema = "cscs/config-show/v1"

// Effective is the configuration as rounds with given settings take it
// (`cscs config show`): every round setting with where it came from, and
// each client with its rules, groups and sources. It holds no secret: a
// password is only said to be set.
type Effective struct {
	Schema  string                     `json:"schema"`
	Files   []string                   `json:"files"`
	Round   map[string]EffectiveSource `json:"round"`
	Clients []EffectiveClient          `json:"clients"`

	cfg  *Config
	rows [][3]string
}

// EffectiveSource is a setting's value and where it came from: a flag
// ("--concurrency"), an overlay's file:line, or "default".
type EffectiveSource struct {
	Value string `json:"value"`
	From  string `json:"from"`
}

// EffectiveClient is one client of config.xml.
type EffectiveClient struct {
	Host     string          `json:"host"`
	Username string          `json:"username"`
	Password bool            `json:"password"`
	Key      string          `json:"key,omitempty"`
	Mail     string          `json:"mail,omitempty"`
	Alerts   []EffectiveRule `json:"alerts"`
	Groups   []string        `json:"groups,omitempty"`
	Sources  []string        `json:"sources,omitempty"`
}

// EffectiveRule is an <alert> rule as written.
type EffectiveRule struct {
	Type  string `json:"type"`
	Limit string `json:"limit"`
	At    string `json:"at"`
}

// Effective is c with the round settings s, where given reports whether
// the command line set a setting (by its overlay name, "max_handshakes").
func (c *Config) Effective(s Settings, given func(setting string) bool) Effective {
	inv, ov := c.Inventory, c.Overlay
	e := Effective{Schema: EffectiveSchema, Files: []string{inv.Path}, Round: map[string]EffectiveSource{}, Clients: []EffectiveClient{}, cfg: c}
	if ov != nil {
		e.Files = append(e.Files, ov.Files...)
	}
	var o overlay.Round
	if ov != nil {
		o = ov.Round
	}
	origin := func(setting string, set bool, rng hcl.Range) string {
		switch {
		case given(setting):
			return "--" + strings.ReplaceAll(setting, "_", "-")
		case set:
			return overlay.Position(rng)
		}
		return "default"
	}
	e.rows = [][3]string{
		{"concurrency", strconv.Itoa(s.Concurrency), origin("concurrency", o.Concurrency.Set, o.Concurrency.Range)},
		{"max_handshakes", strconv.Itoa(s.MaxHandshakes), origin("max_handshakes", o.MaxHandshakes.Set, o.MaxHandshakes.Range)},
		{"max_uploads", strconv.Itoa(s.MaxUploads), origin("max_uploads", o.MaxUploads.Set, o.MaxUploads.Range)},
		{"connect_timeout", overlay.Quote(s.ConnectTimeout), origin("connect_timeout", o.ConnectTimeout.Set, o.ConnectTimeout.Range)},
		{"handshake_timeout", overlay.Quote(s.HandshakeTimeout), origin("handshake_timeout", o.HandshakeTimeout.Set, o.HandshakeTimeout.Range)},
		{"host_timeout", overlay.Quote(s.HostTimeout), origin("host_timeout", o.HostTimeout.Set, o.HostTimeout.Range)},
		{"cpu_sample", overlay.Quote(s.CPUSample), origin("cpu_sample", o.CPUSample.Set, o.CPUSample.Range)},
		{"alert_repeat", overlay.Quote(s.AlertRepeat), origin("alert_repeat", o.AlertRepeat.Set, o.AlertRepeat.Range)},
		{"interval", overlay.Quote(s.Interval), origin("interval", o.Interval.Set, o.Interval.Range)},
	}
	for _, row := range e.rows {
		e.Round[row[0]] = EffectiveSource{Value: strings.Trim(row[1], `"`), From: row[2]}
	}
	for _, cl := range inv.Clients {
		ec := EffectiveClient{Host: cl.IP + ":" + strconv.Itoa(cl.Port), Username: cl.Username, Password: !cl.Password.IsZero(),
			Key: cl.Key, Mail: cl.Mail, Alerts: []EffectiveRule{}}
		for _, a := range cl.Alerts {
			ec.Alerts = append(ec.Alerts, EffectiveRule{Type: a.Type, Limit: a.Limit, At: a.Pos.String()})
		}
		if ov != nil {
			groups := ov.GroupsOf(cl.IP, "")
			ec.Groups, ec.Sources = overlay.GroupNames(groups), overlay.SourcesFor(groups)
		}
		e.Clients = append(e.Clients, ec)
	}
	return e
}

// WriteText writes e in the overlay's syntax, secrets masked, each round
// setting with where it came from.
func (e Effective) WriteText(w io.Writer) {
	fmt.Fprintf(w, "# Effective configuration from %s and the command line; secrets are shown as %s.\n\n", strings.Join(e.Files, ", "), Masked)
	fmt.Fprintln(w, "round {")
	for _, row := range e.rows {
		fmt.Fprintf(w, "  %-17s = %-8s # %s\n", row[0], row[1], row[2])
	}
	fmt.Fprintln(w, "}")
	ov := e.cfg.Overlay
	for i, cl := range e.cfg.Inventory.Clients {
		ec := e.Clients[i]
		fmt.Fprintf(w, "\nclient %q {\n", ec.Host)
		fmt.Fprintf(w, "  username = %q\n", ec.Username)
		if ec.Password {
			fmt.Fprintf(w, "  password = %q\n", Masked)
		}
		if ec.Key != "" {
			fmt.Fprintf(w, "  key      = %q\n", ec.Key)
		}
		if ec.Mail != "" {
			fmt.Fprintf(w, "  mail     = %q\n", ec.Mail)
		}
		for _, a := range ec.Alerts {
			fmt.Fprintf(w, "  alert %q { limit = %q } # %s\n", a.Type, a.Limit, a.At)
		}
		if ov == nil {
			fmt.Fprintln(w, "}")
			continue
		}
		// The os selector is decided once the host is reached.
		var maybe []string
		for _, g := range ov.GroupsIfOS(cl.IP) {
			maybe = append(maybe, g.Name+" (if "+strings.Join(g.Selector.OS, " or ")+")")
		}
		fmt.Fprintf(w, "  groups   = %s\n", overlay.List(append(ec.Groups, maybe...)))
		if ec.Sources != nil {
			fmt.Fprintf(w, "  sources  = %s\n", overlay.List(ec.Sources))
		}
		fmt.Fprintln(w, "}")
	}
	if ov != nil {
		ov.Show(w, Masked)
	}
}
