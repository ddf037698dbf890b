package round

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/round/remote"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// HostCheck is what CheckHosts found for one client.
type HostCheck struct {
	Client config.Client
	// Platform is the host's, when Err is nil.
	Platform transport.Platform
	Took     time.Duration
	// Err says why the host failed, and Status classifies it.
	Err    error
	Status storage.Status
}

// CheckHosts connects to every client of cfg, authenticates, verifies its
// host key and detects its platform, without uploading or running
// anything, under the bounds and timeouts of s. The result is in the
// inventory's order.
func CheckHosts(ctx context.Context, cfg *Config, s Settings, env Environment) ([]HostCheck, error) {
	hostKeys, err := transport.NewHostKeys(filepath.Join(env.DataDir, "known_hosts"), s.AcceptNewHostKeys)
	if err != nil {
		return nil, err
	}
	clients := cfg.Inventory.Clients
	results := make([]HostCheck, len(clients))
	sem := make(chan struct{}, max(s.Concurrency, 1))
	handshakes := transport.NewHandshakeGate(s.MaxHandshakes)
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			hctx, cancel := context.WithTimeout(ctx, s.HostTimeout)
			defer cancel()
			r := HostCheck{Client: cl, Status: storage.StatusOK}
			client, err := transport.Dial(hctx, remote.Target(cl, env.UseSSHAgent), transport.Options{
				ConnectTimeout: s.ConnectTimeout, HandshakeTimeout: s.HandshakeTimeout, HostKeys: hostKeys, Handshakes: handshakes,
			})
			if err == nil {
				r.Platform, err = client.Detect(hctx)
				client.Close()
			}
			if err != nil {
				r.Err, r.Status = err, remote.StatusOf(ctx, err)
			}
			r.Took = time.Since(start)
			results[i] = r
		})
	}
	wg.Wait()
	return results, nil
}
