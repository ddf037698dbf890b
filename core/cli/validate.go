package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/round"
)

// validateOutput is `cscs validate --output json` (schema
// cscs/validate/v1, docs/json.md). The diagnostics themselves are written
// to stderr, as text with their file:line:col.
type validateOutput struct {
	Schema     string          `json:"schema"`
	OK         bool            `json:"ok"`
	Config     validatedConfig `json:"config"`
	Email      validatedEmail  `json:"email"`
	Overlay    *validatedOv    `json:"overlay,omitempty"`
	DevPlugins []string        `json:"dev_plugins"`
}

type validatedConfig struct {
	Path    string `json:"path"`
	Clients int    `json:"clients"`
}

type validatedEmail struct {
	Path  string `json:"path"`
	Found bool   `json:"found"`
}

type validatedOv struct {
	Files     []string `json:"files"`
	Groups    int      `json:"groups"`
	Storages  int      `json:"storages"`
	Notifiers int      `json:"notifiers"`
	Routes    int      `json:"routes"`
}

// validateCommand loads every configuration file exactly as a round does,
// prints the diagnostics and a summary, and collects nothing.
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
	out := validateOutput{Schema: "cscs/validate/v1", Config: validatedConfig{Path: s.configPath}, Email: validatedEmail{Path: s.emailPath}, DevPlugins: []string{}}
	code := ExitOK
	cfg, ok := s.load(ctx, env, fs, "validate", round.Files{Inventory: s.configPath, Email: s.emailPath})
	if ok {
		out.OK = true
		out.Config.Clients = len(cfg.Inventory.Clients)
		out.Email.Found = cfg.Email != nil
		if ov := cfg.Overlay; ov != nil {
			out.Overlay = &validatedOv{Files: ov.Files, Groups: len(ov.Groups), Storages: len(ov.Storages), Notifiers: len(ov.Notifiers), Routes: len(ov.Routes)}
		}
		label := "warning"
		if *strict {
			label = "error"
		}
		for _, d := range devPlugins(s.pluginsDir(), cfg) {
			out.DevPlugins = append(out.DevPlugins, d)
			fmt.Fprintf(env.Stderr, "cscs validate: %s: %s is not pinned by its checksum: whatever is at that path runs; pin it (`cscs plugins install PATH`, or sha256 in its plugin block) before production\n", label, d)
		}
		if *strict && len(out.DevPlugins) > 0 {
			out.OK = false
		}
	}
	if !out.OK {
		code = ExitBadConfig
	}
	if s.output == "json" {
		if err := writeJSONValue(env.Stdout, out); err != nil {
			fmt.Fprintf(env.Stderr, "cscs validate: %v\n", err)
			return ExitSomeFailed
		}
		return code
	}
	if !out.OK {
		return code
	}
	fmt.Fprintf(env.Stdout, "%s: %d clients, ok\n", s.configPath, out.Config.Clients)
	if out.Email.Found {
		fmt.Fprintf(env.Stdout, "%s: ok\n", s.emailPath)
	} else {
		fmt.Fprintf(env.Stdout, "%s: not found (only needed to send mail)\n", s.emailPath)
	}
	if ov := out.Overlay; ov != nil {
		fmt.Fprintf(env.Stdout, "overlay: %d file(s), %d group(s), %d storage(s), %d notifier(s), %d route(s), ok\n",
			len(ov.Files), ov.Groups, ov.Storages, ov.Notifiers, ov.Routes)
	}
	return code
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
