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
	handshakes, keyFiles := transport.NewHandshakeGate(s.MaxHandshakes), transport.NewKeyFiles()
	// The pool bounds the hosts at once, gives each its deadline and
	// records the hosts a cancellation leaves unstarted.
	batch := pool.Run(ctx, hosts, pool.CollectorFunc(func(hctx context.Context, i int) storage.Collection {
		client, err := transport.Dial(hctx, remote.Target(clients[i], env.UseSSHAgent), transport.Options{
			ConnectTimeout: s.ConnectTimeout, HandshakeTimeout: s.HandshakeTimeout, HostKeys: hostKeys, Handshakes: handshakes,
			KeyFiles: keyFiles,
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

// CheckSchema is the name and version of CheckReport's JSON format
// (docs/json.md).
const CheckSchema = "cscs/hosts-check/v1"

// CheckReport is the machine-readable form of CheckHosts' results.
type CheckReport struct {
	Schema string         `json:"schema"`
	Counts map[string]int `json:"counts"`
	Hosts  []CheckedHost  `json:"hosts"`
}

// CheckedHost is one host of a CheckReport.
type CheckedHost struct {
	IP     string `json:"ip"`
	Port   int    `json:"port"`
	Status string `json:"status"`
	// Error is the whole error, with its fix.
	Error      string  `json:"error,omitempty"`
	OS         string  `json:"os,omitempty"`
	Arch       string  `json:"arch,omitempty"`
	Shell      string  `json:"shell,omitempty"`
	RemoteDir  string  `json:"remote_dir,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// ReportChecks is results as a CheckReport, and how many hosts failed.
func ReportChecks(results []HostCheck) (CheckReport, int) {
	out := CheckReport{Schema: CheckSchema, Counts: map[string]int{}}
	failed := 0
	for _, r := range results {
		h := CheckedHost{IP: r.Client.IP, Port: r.Client.Port, Status: string(r.Status), DurationMS: ms(r.Took)}
		if r.Err != nil {
			failed++
			h.Error = r.Err.Error()
		} else {
			h.Status = string(storage.StatusOK)
			h.OS, h.Arch, h.Shell, h.RemoteDir = r.Platform.OS, r.Platform.Arch, r.Platform.Shell, r.Platform.RemoteDir
		}
		out.Counts[h.Status]++
		out.Hosts = append(out.Hosts, h)
	}
	return out, failed
}
