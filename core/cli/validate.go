package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/round"
)

// validateCommand loads every configuration file exactly as a round does,
// prints the diagnostics and a summary, and collects nothing.
func validateCommand(ctx context.Context, env *Env) int {
	s := settings{strict: true}
	fs := newFlagSet(env, "validate")
	s.loadFlags(fs, env)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	cfg, ok := s.load(ctx, env, fs, "validate", round.Files{Inventory: s.configPath, Email: s.emailPath})
	if !ok {
		return ExitBadConfig
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
