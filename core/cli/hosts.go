package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/cscs-dev/cscs/core/round"
)

// hostsCheckCommand is `cscs hosts check`: for every client, connect,
// authenticate, verify the host key and detect the platform, without
// uploading or running anything. The overlays' round settings (timeouts,
// concurrency, handshakes) apply as they do to `cscs run`.
func hostsCheckCommand(ctx context.Context, env *Env) int {
	var s settings
	_, cfg, code := s.loadForRound(ctx, env, "hosts check")
	if cfg == nil {
		return code
	}
	results, err := round.CheckHosts(ctx, cfg, s.round, round.Environment{DataDir: s.dataDir, UseSSHAgent: env.Getenv("SSH_AUTH_SOCK") != ""})
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs hosts check: %v\n", err)
		return ExitSomeFailed
	}

	failed := 0
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tPLATFORM\tREMOTE DIR\tDURATION\tDETAIL")
	for _, r := range results {
		label := fmt.Sprintf("%s:%d", r.Client.IP, r.Client.Port)
		took := r.Took.Round(time.Millisecond)
		if r.Err != nil {
			failed++
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t%s\t%s\n", label, r.Status, took, firstLine(r.Err.Error(), 120))
			continue
		}
		platform := r.Platform.OS + "/" + r.Platform.Arch
		if r.Platform.OS == "windows" && r.Platform.Shell != "" {
			platform += " (" + r.Platform.Shell + ")"
		}
		fmt.Fprintf(tw, "%s\tok\t%s\t%s\t%s\t\n", label, platform, r.Platform.RemoteDir, took)
	}
	_ = tw.Flush()
	if failed > 0 {
		return ExitSomeFailed
	}
	return ExitOK
}
