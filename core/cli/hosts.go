package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cscs-dev/cscs/core/collect"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/transport"
)

// hostsCheckCommand is `cscs hosts check`: for every client, connect,
// authenticate, verify the host key and detect the platform, without
// uploading or running anything. The overlays' round settings (timeouts,
// concurrency, handshakes) apply as they do to `cscs run`.
func hostsCheckCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "hosts check")
	s.configFlags(fs)
	s.dataFlags(fs, env)
	s.roundFlags(fs)
	s.pluginsDir = s.pluginFlags(fs)
	s.overlayFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	loaded, ok := s.load(ctx, env, fs, "hosts check", round.Files{Inventory: s.configPath})
	if !ok {
		return ExitBadConfig
	}
	cfg, r := loaded.Inventory, s.round
	hostKeys, err := transport.NewHostKeys(filepath.Join(s.dataDir, "known_hosts"), r.AcceptNewHostKeys)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs hosts check: %v\n", err)
		return ExitSomeFailed
	}

	type result struct {
		platform transport.Platform
		took     time.Duration
		err      error
	}
	results := make([]result, len(cfg.Clients))
	sem := make(chan struct{}, r.Concurrency)
	handshakes := transport.NewHandshakeGate(r.MaxHandshakes)
	var wg sync.WaitGroup
	for i, cl := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			hctx, cancel := context.WithTimeout(ctx, r.HostTimeout)
			defer cancel()
			client, err := transport.Dial(hctx, collect.Target(cl, env.Getenv("SSH_AUTH_SOCK") != ""), transport.Options{
				ConnectTimeout: r.ConnectTimeout, HandshakeTimeout: r.HandshakeTimeout, HostKeys: hostKeys, Handshakes: handshakes,
			})
			if err == nil {
				results[i].platform, err = client.Detect(hctx)
				client.Close()
			}
			results[i].took, results[i].err = time.Since(start), err
		}()
	}
	wg.Wait()

	failed := 0
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tPLATFORM\tREMOTE DIR\tDURATION\tDETAIL")
	for i, cl := range cfg.Clients {
		r := results[i]
		label := fmt.Sprintf("%s:%d", cl.IP, cl.Port)
		if r.err != nil {
			failed++
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t%s\t%s\n", label, collect.StatusOf(ctx, r.err), r.took.Round(time.Millisecond), firstLine(r.err.Error(), 120))
			continue
		}
		platform := r.platform.OS + "/" + r.platform.Arch
		if r.platform.OS == "windows" && r.platform.Shell != "" {
			platform += " (" + r.platform.Shell + ")"
		}
		fmt.Fprintf(tw, "%s\tok\t%s\t%s\t%s\t\n", label, platform, r.platform.RemoteDir, r.took.Round(time.Millisecond))
	}
	_ = tw.Flush()
	if failed > 0 {
		return ExitSomeFailed
	}
	return ExitOK
}
