package cli

import (
	"flag"
	"strings"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// overlayFlags registers --overlay and --var.
func (s *settings) overlayFlags(fs *flag.FlagSet) {
	fs.Var(&s.overlays, "overlay", "HCL overlay file, or directory of *.hcl files, layered over config.xml; repeatable, a later one wins (see docs/overlay.md)")
	fs.Var(&s.vars, "var", "NAME=VALUE sets an overlay variable; repeatable")
}
