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
	fs, cfg, code := s.loadForRound(ctx, env, "config show")
	if cfg == nil {
		return code
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
		fmt.Fprintf(w, "  groups   = %s\n", overlay.List(append(overlay.GroupNames(groups), maybe...)))
		if src := overlay.SourcesFor(groups); src != nil {
			fmt.Fprintf(w, "  sources  = %s\n", overlay.List(src))
		}
		fmt.Fprintln(w, "}")
	}
	if ov == nil {
		return
	}
	ov.Show(w, masked)
}
