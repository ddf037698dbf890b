package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/round"
)

// hostsCheckOutput is `cscs hosts check --output json` (schema
// cscs/hosts-check/v1, docs/json.md).
type hostsCheckOutput struct {
	Schema string           `json:"schema"`
	Counts map[string]int   `json:"counts"`
	Hosts  []hostCheckEntry `json:"hosts"`
}

type hostCheckEntry struct {
	IP         string  `json:"ip"`
	Port       int     `json:"port"`
	Status     string  `json:"status"`
	Error      string  `json:"error,omitempty"`
	OS         string  `json:"os,omitempty"`
	Arch       string  `json:"arch,omitempty"`
	Shell      string  `json:"shell,omitempty"`
	RemoteDir  string  `json:"remote_dir,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// hostsCheckCommand is `cscs hosts check`: for every client, connect,
// authenticate, verify the host key and detect the platform, without
// uploading or running anything. The overlays' round settings (timeouts,
// concurrency, handshakes) apply as they do to `cscs run`. Each host is
// reported as it finishes; a failed host's error, with its fix, is
// printed whole after the table.
func hostsCheckCommand(ctx context.Context, env *Env) int {
	var s settings
	_, cfg, code := s.loadForRound(ctx, env, "hosts check", func(fs *flag.FlagSet) {
		s.connectionFlags(fs)
		s.verbosityFlags(fs)
	})
	if cfg == nil {
		return code
	}
	results, err := round.CheckHosts(ctx, cfg, s.round, round.Environment{DataDir: s.dataDir, UseSSHAgent: env.Getenv("SSH_AUTH_SOCK") != ""},
		s.progress(env).HostDone)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs hosts check: %v\n", err)
		return ExitSomeFailed
	}
	out := hostsCheckOutput{Schema: "cscs/hosts-check/v1", Counts: map[string]int{}}
	failed := 0
	for _, r := range results {
		e := hostCheckEntry{IP: r.Client.IP, Port: r.Client.Port, Status: string(r.Status), DurationMS: float64(r.Took.Microseconds()) / 1000}
		if r.Err != nil {
			failed++
			e.Error = r.Err.Error()
		} else {
			e.Status = "ok"
			e.OS, e.Arch, e.Shell, e.RemoteDir = r.Platform.OS, r.Platform.Arch, r.Platform.Shell, r.Platform.RemoteDir
		}
		out.Counts[e.Status]++
		out.Hosts = append(out.Hosts, e)
	}
	if s.output == "json" {
		if err := writeJSONValue(env.Stdout, out); err != nil {
			fmt.Fprintf(env.Stderr, "cscs hosts check: %v\n", err)
			return ExitSomeFailed
		}
	} else {
		writeHostChecks(env, out.Hosts)
	}
	if failed > 0 {
		return ExitSomeFailed
	}
	return ExitOK
}

// writeHostChecks writes the table of host checks, then each failure's
// whole error (the step that failed and its fix).
func writeHostChecks(env *Env, hosts []hostCheckEntry) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tPLATFORM\tREMOTE DIR\tDURATION\tDETAIL")
	var failures []hostCheckEntry
	for _, h := range hosts {
		label := round.HostLabel(h.IP, h.Port)
		took := (time.Duration(h.DurationMS*1000) * time.Microsecond).Round(time.Millisecond)
		if h.Error != "" {
			failures = append(failures, h)
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t%s\t%s\n", label, h.Status, took, firstLine(h.Error, 120))
			continue
		}
		platform := h.OS + "/" + h.Arch
		if h.OS == "windows" && h.Shell != "" {
			platform += " (" + h.Shell + ")"
		}
		fmt.Fprintf(tw, "%s\tok\t%s\t%s\t%s\t\n", label, platform, h.RemoteDir, took)
	}
	_ = tw.Flush()
	if len(failures) > 0 {
		fmt.Fprintln(env.Stdout, "\nWhat failed, and what to do:")
		for _, h := range failures {
			fmt.Fprintf(env.Stdout, "  %s: %s\n", round.HostLabel(h.IP, h.Port), h.Error)
		}
	}
}
