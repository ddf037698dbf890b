package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/round"
)

// validateCommand loads every configuration file exactly as a round does,
// prints the diagnostics and a summary (round.Validate), and collects
// nothing.
func validateCommand(ctx context.Context, env *Env) int {
	s := settings{strict: true}
	fs := newFlagSet(env, "validate")
	s.loadFlags(fs, env)
	strict := fs.Bool("strict", false, "also refuse plugins installed or declared for development (not pinned by checksum)")
	s.outputFlag(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if err := s.checkOutput(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs validate: %v\n", err)
		return ExitBadConfig
	}
	files := round.Files{Inventory: s.configPath, Email: s.emailPath}
	cfg, _ := s.load(ctx, env, fs, "validate", files)
	v := round.Validate(files, cfg, s.pluginsDir(), *strict)
	label := "warning"
	if *strict {
		label = "error"
	}
	for _, d := range v.DevPlugins {
		fmt.Fprintf(env.Stderr, "cscs validate: %s: %s is not pinned by its checksum: whatever is at that path runs; pin it (`cscs plugins install PATH`, or sha256 in its plugin block) before production\n", label, d)
	}
	code := ExitOK
	if !v.OK {
		code = ExitBadConfig
	}
	if s.output == "json" {
		if err := writeJSONValue(env.Stdout, v); err != nil {
			fmt.Fprintf(env.Stderr, "cscs validate: %v\n", err)
			return ExitSomeFailed
		}
		return code
	}
	if !v.OK {
		return code
	}
	fmt.Fprintf(env.Stdout, "%s: %d clients, ok\n", s.configPath, v.Config.Clients)
	if v.Email.Found {
		fmt.Fprintf(env.Stdout, "%s: ok\n", s.emailPath)
	} else {
		fmt.Fprintf(env.Stdout, "%s: not found (only needed to send mail)\n", s.emailPath)
	}
	if ov := v.Overlay; ov != nil {
		fmt.Fprintf(env.Stdout, "overlay: %d file(s), %d group(s), %d storage(s), %d notifier(s), %d route(s), ok\n",
			len(ov.Files), ov.Groups, ov.Storages, ov.Notifiers, ov.Routes)
	}
	return code
}
