package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cscs-dev/cscs/core/config"
)

func validateCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "validate")
	s.configFlags(fs)
	s.dataFlags(fs, env)
	pluginsDir := s.pluginFlags(fs)
	s.overlayFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	cfg, diags := config.LoadInventory(s.configPath, config.LoadOptions{})
	all := diags
	// The overlay prints its diagnostics itself, in HCL's format.
	ov, descs, overlayOK := loadOverlay(ctx, env, &s, pluginsDir())
	if cfg != nil {
		if descs == nil {
			var warnings []error
			descs, warnings = sourceDescriptions(ctx, env, pluginsDir(), declared(ov))
			for _, w := range warnings {
				fmt.Fprintf(env.Stderr, "cscs validate: %v\n", w)
			}
		}
		_, ruleDiags := compileRules(cfg, descs)
		all = append(all, ruleDiags...)
	}
	emailChecked := false
	if _, err := os.Stat(s.emailPath); err == nil || !isNotExist(err) {
		_, ed := config.LoadEmail(s.emailPath, config.LoadOptions{})
		all = append(all, ed...)
		emailChecked = true
	}
	printDiagnostics(env, all)
	if all.HasErrors() || !overlayOK {
		return ExitBadConfig
	}
	fmt.Fprintf(env.Stdout, "%s: %d clients, ok\n", s.configPath, len(cfg.Clients))
	if emailChecked {
		fmt.Fprintf(env.Stdout, "%s: ok\n", s.emailPath)
	} else {
		fmt.Fprintf(env.Stdout, "%s: not found (only needed to send mail)\n", s.emailPath)
	}
	if ov != nil {
		fmt.Fprintf(env.Stdout, "overlay: %d file(s), %d group(s), %d storage(s), %d notifier(s), %d route(s), ok\n",
			len(ov.Files), len(ov.Groups), len(ov.Storages), len(ov.Notifiers), len(ov.Routes))
	}
	return ExitOK
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
