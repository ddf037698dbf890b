package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/cscs-dev/cscs/core/round"
)

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
	out, failed := round.ReportChecks(results)
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
func writeHostChecks(env *Env, hosts []round.CheckedHost) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tPLATFORM\tREMOTE DIR\tDURATION\tDETAIL")
	var failures []round.CheckedHost
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
