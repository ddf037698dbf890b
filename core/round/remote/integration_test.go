//go:build linux

package remote

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// sessionCounter counts the sessions a fleet's first sshd (LogLevel
// VERBOSE) has logged.
type sessionCounter struct {
	log          string
	execs, sftps int // seen so far
}

// since returns the exec and SFTP sessions logged since the last call.
func (s *sessionCounter) since(t *testing.T, wantExecs, wantSFTPs int) (execs, sftps int) {
	t.Helper()
	count := func() (int, int) {
		data, err := os.ReadFile(s.log)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(data), "Starting session: command"), strings.Count(string(data), "Starting session: subsystem 'sftp'")
	}
	// sshd writes the lines from each connection's process: give the
	// expected ones a moment, then a little more for unexpected ones.
	deadline := time.Now().Add(2 * time.Second)
	e, f := count()
	for (e-s.execs < wantExecs || f-s.sftps < wantSFTPs) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		e, f = count()
	}
	time.Sleep(100 * time.Millisecond)
	e, f = count()
	execs, sftps = e-s.execs, f-s.sftps
	s.execs, s.sftps = e, f
	return execs, sftps
}

// TestIntegrationCollectCachedPlatform runs rounds against a real OpenSSH
// sshd and counts, from its log, the commands and SFTP sessions of each:
// one command on the cached path, and the fallbacks when the agent is
// missing, tampered with, or the cached platform is stale.
func TestIntegrationCollectCachedPlatform(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{LogLevel: "VERBOSE"})
	h := fleet.Hosts[0]
	id := testkey.New(t)
	realAgent := thisMachinesAgent(t)
	// The fleet shares /tmp with other tests and benchmarks: padding makes
	// this test's agent a file of its own (an executable ignores what
	// follows its segments).
	pad := make([]byte, 64)
	if _, err := rand.Read(pad); err != nil {
		t.Fatal(err)
	}
	agent := append(append([]byte(nil), realAgent...), pad...)
	sum := sha256.Sum256(agent)
	agentPath := fmt.Sprintf("/tmp/cscs-%d/cscs-agent-%s", fleet.UID, hex.EncodeToString(sum[:])[:16])
	t.Cleanup(func() { os.Remove(agentPath) })

	known := filepath.Join(t.TempDir(), "known_hosts")
	mustDo(t, os.WriteFile(known, []byte(fleet.KnownHosts()), 0o600))
	hostKeys, err := transport.NewHostKeys(known, false)
	mustDo(t, err)
	cache := &memPlatforms{m: map[string]transport.Platform{}}
	c := New(Settings{Identity: id, Agents: fakeAgents{data: agent}, HostKeys: hostKeys,
		ConnectTimeout: 10 * time.Second, HandshakeTimeout: 20 * time.Second, CPUSample: 10 * time.Millisecond, Platforms: cache})
	cl := config.Client{IP: h.IP, Port: h.Port, Username: fleet.User, Key: fleet.KeyFile}
	key := cache.key(h.IP, h.Port, fleet.User)
	sessions := &sessionCounter{log: filepath.Join(fleet.Dir, "sshd_0.log")}

	rounds := []struct {
		name                 string
		before               func(t *testing.T)
		wantExecs, wantSFTPs int
		wantUpload           bool
		// noShell: the cache holds no login shell after the round. Else
		// it holds ShellPOSIX: the fleet's user logs in with /bin/sh.
		noShell bool
	}{
		{name: "first round", wantExecs: 2, wantSFTPs: 1, wantUpload: true},
		{name: "cached", wantExecs: 1},
		{name: "agent missing", before: func(t *testing.T) { mustDo(t, os.Remove(agentPath)) }, wantExecs: 2, wantSFTPs: 1, wantUpload: true},
		{name: "agent tampered",
			before: func(t *testing.T) {
				bad := append([]byte(nil), agent...)
				bad[len(bad)-1] ^= 0xff
				mustDo(t, os.WriteFile(agentPath, bad, 0o700))
			},
			wantExecs: 2, wantSFTPs: 1, wantUpload: true},
		{name: "stored before the login shell was told",
			before: func(t *testing.T) {
				p := cache.m[key]
				p.Shell = ""
				cache.m[key] = p
			},
			wantExecs: 1, noShell: true}, // through /bin/sh; not detected again
		{name: "cached platform stale",
			before: func(t *testing.T) {
				p := cache.m[key]
				p.Arch = otherArch(p.Arch)
				cache.m[key] = p
			},
			wantExecs: 2, wantSFTPs: 1},
		{name: "cached again", wantExecs: 1},
	}
	for i, r := range rounds {
		ok := t.Run(r.name, func(t *testing.T) {
			if r.before != nil {
				r.before(t)
			}
			col := c.Collect(context.Background(), cl)
			if col.Status != storage.StatusOK || col.Error != "" {
				t.Fatalf("status %s, error %q", col.Status, col.Error)
			}
			execs, sftps := sessions.since(t, r.wantExecs, r.wantSFTPs)
			if execs != r.wantExecs || sftps != r.wantSFTPs {
				t.Errorf("sshd logged %d commands and %d SFTP sessions, want %d and %d", execs, sftps, r.wantExecs, r.wantSFTPs)
			}
			if col.AgentUploaded != r.wantUpload {
				t.Errorf("agent uploaded: %v, want %v", col.AgentUploaded, r.wantUpload)
			}
			wantShell := transport.ShellPOSIX
			if r.noShell {
				wantShell = ""
			}
			if p := cache.m[key]; p.OS != runtime.GOOS || p.Arch != runtime.GOARCH || p.Shell != wantShell {
				t.Errorf("cache holds %+v after the round, want login shell %q", p, wantShell)
			}
		})
		if !ok && i == 0 {
			t.FailNow()
		}
	}
}
