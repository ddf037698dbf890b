package round

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/round/pool"
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
//
// progress, when not nil, hears of each host as it finishes (the
// collection carries its status and error).
func CheckHosts(ctx context.Context, cfg *Config, s Settings, env Environment, progress func(done, total int, c storage.Collection)) ([]HostCheck, error) {
	hostKeys, err := transport.NewHostKeys(filepath.Join(env.DataDir, "known_hosts"), s.AcceptNewHostKeys)
	if err != nil {
		return nil, err
	}
	clients := cfg.Inventory.Clients
	results := make([]HostCheck, len(clients))
	hosts := make([]pool.Host, len(clients))
	for i, cl := range clients {
		hosts[i], results[i].Client = pool.Host{IP: cl.IP, Port: cl.Port}, cl
	}
	handshakes := transport.NewHandshakeGate(s.MaxHandshakes)
	// The pool bounds the hosts at once, gives each its deadline and
	// records the hosts a cancellation leaves unstarted.
	batch := pool.Run(ctx, hosts, pool.CollectorFunc(func(hctx context.Context, i int) storage.Collection {
		client, err := transport.Dial(hctx, remote.Target(clients[i], env.UseSSHAgent), transport.Options{
			ConnectTimeout: s.ConnectTimeout, HandshakeTimeout: s.HandshakeTimeout, HostKeys: hostKeys, Handshakes: handshakes,
		})
		if err == nil {
			results[i].Platform, err = client.Detect(hctx)
			client.Close()
		}
		if err != nil {
			results[i].Err = err
			return storage.Collection{Status: remote.StatusOf(ctx, err), Error: err.Error()}
		}
		return storage.Collection{Status: storage.StatusOK}
	}), pool.Options{Concurrency: s.Concurrency, HostTimeout: s.HostTimeout, Progress: progress})
	for i, c := range batch.Collections {
		results[i].Status, results[i].Took = c.Status, c.Timings.Total
		if results[i].Err == nil && c.Status != storage.StatusOK {
			results[i].Err = errors.New(c.Error)
		}
	}
	return results, nil
}
