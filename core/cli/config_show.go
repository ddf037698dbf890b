package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/overlay"
)

// masked stands for a secret in `cscs config show`.
const masked = "(sensitive)"

// configShowCommand prints the effective configuration: config.xml with
// every overlay and flag applied, secrets masked, each round setting with
// where it came from.
func configShowCommand(ctx context.Context, env *Env) int {
	var s settings
	fs, cfg, code := s.loadForRound(ctx, env, "config show", s.roundSettingFlags)
	if cfg == nil {
		return code
	}
	if s.output == "json" {
		if err := writeJSONValue(env.Stdout, configJSON(fs, &s, cfg.Inventory, cfg.Overlay)); err != nil {
			fmt.Fprintf(env.Stderr, "cscs config show: %v\n", err)
			return ExitSomeFailed
		}
		return ExitOK
	}
	showConfig(env.Stdout, fs, &s, cfg.Inventory, cfg.Overlay)
	return ExitOK
}

// configOutput is `cscs config show --output json` (schema
// cscs/config-show/v1, docs/json.md).
type configOutput struct {
	Schema  string                  `json:"schema"`
	Files   []string                `json:"files"`
	Round   map[string]configSource `json:"round"`
	Clients []configClient          `json:"clients"`
}

// configSource is a setting's value and where it came from.
type configSource struct {
	Value string `json:"value"`
	From  string `json:"from"`
}

type configClient struct {
	Host     string        `json:"host"`
	Username string        `json:"username"`
	Password bool          `json:"password"`
	Key      string        `json:"key,omitempty"`
	Mail     string        `json:"mail,omitempty"`
	Alerts   []configAlert `json:"alerts"`
	Groups   []string      `json:"groups,omitempty"`
	Sources  []string      `json:"sources,omitempty"`
}

type configAlert struct {
	Type  string `json:"type"`
	Limit string `json:"limit"`
	At    string `json:"at"`
}

// configJSON is the effective configuration as configOutput; a password
// is only said to be set.
func configJSON(fs *flag.FlagSet, s *settings, cfg *config.Config, ov *overlay.Overlay) configOutput {
	out := configOutput{Schema: "cscs/config-show/v1", Files: []string{cfg.Path}, Round: map[string]configSource{}, Clients: []configClient{}}
	if ov != nil {
		out.Files = append(out.Files, ov.Files...)
	}
	for _, row := range roundRows(fs, s, ov) {
		out.Round[row[0]] = configSource{Value: strings.Trim(row[1], `"`), From: row[2]}
	}
	for _, cl := range cfg.Clients {
		c := configClient{Host: cl.IP + ":" + strconv.Itoa(cl.Port), Username: cl.Username, Password: !cl.Password.IsZero(),
			Key: cl.Key, Mail: cl.Mail, Alerts: []configAlert{}}
		for _, a := range cl.Alerts {
			c.Alerts = append(c.Alerts, configAlert{Type: a.Type, Limit: a.Limit, At: a.Pos.String()})
		}
		if ov != nil {
			groups := ov.GroupsOf(cl.IP, "")
			c.Groups, c.Sources = overlay.GroupNames(groups), overlay.SourcesFor(groups)
		}
		out.Clients = append(out.Clients, c)
	}
	return out
}

// showConfig writes the effective configuration in the overlay's syntax.
func showConfig(w io.Writer, fs *flag.FlagSet, s *settings, cfg *config.Config, ov *overlay.Overlay) {
	files := []string{cfg.Path}
	if ov != nil {
		files = append(files, ov.Files...)
	}
	fmt.Fprintf(w, "# Effective configuration from %s and the command line; secrets are shown as %s.\n\n", strings.Join(files, ", "), masked)

	fmt.Fprintln(w, "round {")
	for _, row := range roundRows(fs, s, ov) {
		fmt.Fprintf(w, "  %-17s = %-8s # %s\n", row[0], row[1], row[2])
	}
	fmt.Fprintln(w, "}")
	writeClients(w, cfg, ov)
	if ov == nil {
		return
	}
	ov.Show(w, masked)
}

// roundRows are the round settings as they take effect: name, value (in
// the overlay's syntax) and where it came from.
func roundRows(fs *flag.FlagSet, s *settings, ov *overlay.Overlay) [][3]string {
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
	return [][3]string{
		{"concurrency", strconv.Itoa(r.Concurrency), origin("concurrency", o.Concurrency.Set, overlay.Position(o.Concurrency.Range))},
		{"max_handshakes", strconv.Itoa(r.MaxHandshakes), origin("max-handshakes", o.MaxHandshakes.Set, overlay.Position(o.MaxHandshakes.Range))},
		{"max_uploads", strconv.Itoa(r.MaxUploads), origin("max-uploads", o.MaxUploads.Set, overlay.Position(o.MaxUploads.Range))},
		{"connect_timeout", overlay.Quote(r.ConnectTimeout), origin("connect-timeout", o.ConnectTimeout.Set, overlay.Position(o.ConnectTimeout.Range))},
		{"handshake_timeout", overlay.Quote(r.HandshakeTimeout), origin("handshake-timeout", o.HandshakeTimeout.Set, overlay.Position(o.HandshakeTimeout.Range))},
		{"host_timeout", overlay.Quote(r.HostTimeout), origin("host-timeout", o.HostTimeout.Set, overlay.Position(o.HostTimeout.Range))},
		{"cpu_sample", overlay.Quote(r.CPUSample), origin("cpu-sample", o.CPUSample.Set, overlay.Position(o.CPUSample.Range))},
		{"alert_repeat", overlay.Quote(r.AlertRepeat), origin("alert-repeat", o.AlertRepeat.Set, overlay.Position(o.AlertRepeat.Range))},
		{"interval", overlay.Quote(r.Interval), origin("interval", o.Interval.Set, overlay.Position(o.Interval.Range))},
	}
}

// writeClients writes each client with its groups and sources.
func writeClients(w io.Writer, cfg *config.Config, ov *overlay.Overlay) {
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
		fmt.Fprintf(w, "  groups   = %s\n", overlay.List(append(overlay.GroupNames(groups), maybe...)))
		if src := overlay.SourcesFor(groups); src != nil {
			fmt.Fprintf(w, "  sources  = %s\n", overlay.List(src))
		}
		fmt.Fprintln(w, "}")
	}
}
