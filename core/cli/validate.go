package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/round"
)

// validateCommand loads every configuration file exactly as a round does,
// prints the diagnostics and a summary, and collects nothing.
func validateCommand(ctx context.Context, env *Env) int {
	s := settings{strict: true}
	fs := newFlagSet(env, "validate")
	s.loadFlags(fs, env)
	strict := fs.Bool("strict", false, "also refuse plugins installed or declared for development (not pinned by checksum)")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	cfg, ok := s.load(ctx, env, fs, "validate", round.Files{Inventory: s.configPath, Email: s.emailPath})
	if !ok {
		return ExitBadConfig
	}
	if devs := devPlugins(s.pluginsDir(), cfg); len(devs) > 0 {
		label := "warning"
		if *strict {
			label = "error"
		}
		for _, d := range devs {
			fmt.Fprintf(env.Stderr, "cscs validate: %s: %s is not pinned by its checksum: whatever is at that path runs; pin it (`cscs plugins install PATH`, or sha256 in its plugin block) before production\n", label, d)
		}
		if *strict {
			return ExitBadConfig
		}
	}
	fmt.Fprintf(env.Stdout, "%s: %d clients, ok\n", s.configPath, len(cfg.Inventory.Clients))
	if cfg.Email != nil {
		fmt.Fprintf(env.Stdout, "%s: ok\n", s.emailPath)
	} else {
		fmt.Fprintf(env.Stdout, "%s: not found (only needed to send mail)\n", s.emailPath)
	}
	if ov := cfg.Overlay; ov != nil {
		fmt.Fprintf(env.Stdout, "overlay: %d file(s), %d group(s), %d storage(s), %d notifier(s), %d route(s), ok\n",
			len(ov.Files), len(ov.Groups), len(ov.Storages), len(ov.Notifiers), len(ov.Routes))
	}
	return ExitOK
}

// devPlugins names the development plugins a round would run: installed
// with --dev, or declared with dev = true.
func devPlugins(pluginsDir string, cfg *round.Config) []string {
	var out []string
	if m, err := pluginhost.LoadManifest(pluginsDir); err == nil {
		for _, e := range m.Plugins {
			if e.Dev {
				out = append(out, fmt.Sprintf("%s (installed with --dev from %s)", e, e.File))
			}
		}
	}
	if cfg.Overlay != nil {
		for _, p := range cfg.Overlay.Plugins {
			if p.Dev {
				out = append(out, fmt.Sprintf("%s %s (plugin block with dev = true, %s)", p.Kind, p.Name, p.Range))
			}
		}
	}
	return out
}
