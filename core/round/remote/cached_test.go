package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/agentstore"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// memPlatforms is a PlatformCache in memory.
type memPlatforms struct {
	mu sync.Mutex
	m  map[string]transport.Platform
}

func (m *memPlatforms) key(ip string, port int, user string) string {
	return fmt.Sprintf("%s@%s:%d", user, ip, port)
}

func (m *memPlatforms) Platform(_ context.Context, ip string, port int, user string) (transport.Platform, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.m[m.key(ip, port, user)]
	return p, ok, nil
}

func (m *memPlatforms) SetPlatform(_ context.Context, ip string, port int, user string, p transport.Platform) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[m.key(ip, port, user)] = p
	return nil
}

// onlyAgents serves data for the platforms listed ("linux/amd64") and no
// other.
type onlyAgents struct {
	platforms []string
	data      []byte
}

func (a onlyAgents) Get(goos, goarch string) (*agentstore.Agent, error) {
	if !slices.Contains(a.platforms, goos+"/"+goarch) {
		return nil, fmt.Errorf("no agent for %s/%s", goos, goarch)
	}
	return fakeAgents{data: a.data}.Get(goos, goarch)
}

// execLog is a shell for the in-process fleet that logs every command it
// runs before running it with /bin/sh. While the file named by failFlag
// exists, it fails RunCached's command the way a host without `ls` would.
type execLog struct {
	shell, log, failFlag string
}

func newExecLog(t *testing.T) execLog {
	t.Helper()
	dir := t.TempDir()
	l := execLog{shell: filepath.Join(dir, "logsh"), log: filepath.Join(dir, "commands"), failFlag: filepath.Join(dir, "fail-cached")}
	script := fmt.Sprintf(`#!/bin/sh
printf '%%s\n---\n' "$2" >>'%s'
if [ -e '%s' ]; then case "$2" in *'np()'*) echo 'sh: 1: ls: not found' >&2; exit 127;; esac; fi
exec /bin/sh "$@"
`, l.log, l.failFlag)
	if err := os.WriteFile(l.shell, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// take returns the kinds of the commands run since the last call:
// "cached" (RunCached's one command), "detect" or "run".
func (l execLog) take(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(l.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Remove(l.log); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var kinds []string
	for _, cmd := range strings.Split(strings.TrimSuffix(string(data), "\n---\n"), "\n---\n") {
		switch {
		case cmd == "":
		case strings.Contains(cmd, "np()"):
			kinds = append(kinds, "cached")
		case strings.Contains(cmd, `exec "$f"`):
			kinds = append(kinds, "run")
		case strings.Contains(cmd, "uname -s"):
			kinds = append(kinds, "detect")
		default:
			kinds = append(kinds, "other: "+cmd)
		}
	}
	return kinds
}

// TestCollectCachedPlatform drives rounds against one in-process host
// with a platform cache and checks, per round, the commands the host ran,
// whether SFTP was used, and what the cache holds afterwards.
func TestCollectCachedPlatform(t *testing.T) {
	onlyOnLinux(t, "the fleet's shell wrapper and the real agent need Linux")
	id := testkey.New(t)
	realAgent := thisMachinesAgent(t)
	sum := sha256.Sum256(realAgent)
	agentName := "cscs-agent-" + hex.EncodeToString(sum[:])[:16]
	execs := newExecLog(t)
	ctx := context.Background()
	h, hostKeys := oneHostFleet(t, execs.shell)
	cache := &memPlatforms{m: map[string]transport.Platform{}}
	cl := demoClient(h)
	here := runtime.GOOS + "/" + runtime.GOARCH
	c := New(Settings{Identity: id, Agents: onlyAgents{platforms: []string{here, runtime.GOOS + "/" + otherArch(runtime.GOARCH)}, data: realAgent}, HostKeys: hostKeys,
		ConnectTimeout: 5 * time.Second, HandshakeTimeout: 5 * time.Second, CPUSample: 10 * time.Millisecond, Platforms: cache})
	key := cache.key(h.IP, h.Port, demoUser)
	var detected transport.Platform // after the first round
	agentPath := func() string { return filepath.Join(detected.RemoteDir, agentName) }
	setCached := func(change func(*transport.Platform)) func(*testing.T) {
		return func(*testing.T) {
			p := detected
			change(&p)
			cache.m[key] = p
		}
	}

	rounds := []struct {
		name string
		// before changes the host or the cache before the round.
		before     func(t *testing.T)
		wantExecs  []string
		wantSFTP   bool
		wantUpload bool
	}{
		{name: "first round detects and uploads", wantExecs: []string{"detect", "run"}, wantSFTP: true, wantUpload: true},
		{name: "cached round is one command", wantExecs: []string{"cached"}},
		{name: "agent missing on the host is uploaded",
			before:    func(t *testing.T) { mustDo(t, os.Remove(agentPath())) },
			wantExecs: []string{"cached", "run"}, wantSFTP: true, wantUpload: true},
		{name: "tampered agent is uploaded again, then run",
			before: func(t *testing.T) {
				data := slices.Clone(realAgent)
				data[len(data)/2] ^= 0xff
				mustDo(t, os.WriteFile(agentPath(), data, 0o700))
			},
			wantExecs: []string{"cached", "run"}, wantSFTP: true, wantUpload: true},
		{name: "cached architecture stale", before: setCached(func(p *transport.Platform) { p.Arch = otherArch(p.Arch) }),
			wantExecs: []string{"cached", "run"}, wantSFTP: true},
		{name: "cached remote directory gone", before: setCached(func(p *transport.Platform) { p.RemoteDir = "/nonexistent-cscs-test/cscs-0" }),
			wantExecs: []string{"cached", "run"}, wantSFTP: true},
		{name: "cached platform without an agent is detected again", before: setCached(func(p *transport.Platform) { p.Arch = "arm" }),
			wantExecs: []string{"detect", "run"}, wantSFTP: true},
		{name: "cached windows is detected again", before: setCached(func(p *transport.Platform) { p.OS = "windows" }),
			wantExecs: []string{"detect", "run"}, wantSFTP: true},
		{name: "command failing before the agent starts falls back to detection",
			before: func(t *testing.T) {
				mustDo(t, os.WriteFile(execs.failFlag, nil, 0o600))
				t.Cleanup(func() { os.Remove(execs.failFlag) })
			},
			wantExecs: []string{"cached", "detect", "run"}, wantSFTP: true},
		{name: "cached again", wantExecs: []string{"cached"}},
	}
	for i, r := range rounds {
		ok := t.Run(r.name, func(t *testing.T) {
			if r.before != nil {
				r.before(t)
			}
			execs.take(t)
			col := c.Collect(ctx, cl)
			if col.Status != storage.StatusOK || col.Error != "" {
				t.Fatalf("status %s, error %q", col.Status, col.Error)
			}
			if got := execs.take(t); !slices.Equal(got, r.wantExecs) {
				t.Errorf("host ran %q, want %q", got, r.wantExecs)
			}
			if sftp := col.Timings.Upload > 0; sftp != r.wantSFTP {
				t.Errorf("SFTP used: %v, want %v", sftp, r.wantSFTP)
			}
			if col.AgentUploaded != r.wantUpload {
				t.Errorf("agent uploaded: %v, want %v", col.AgentUploaded, r.wantUpload)
			}
			if i == 0 {
				detected = cache.m[key]
				if detected.OS != runtime.GOOS || detected.Arch != runtime.GOARCH || detected.RemoteDir == "" {
					t.Fatalf("cache after the first round holds %+v", detected)
				}
			} else if got := cache.m[key]; got != detected {
				t.Errorf("cache holds %+v, want the detected %+v", got, detected)
			}
			if got, err := os.ReadFile(agentPath()); err != nil || !slices.Equal(got, realAgent) {
				t.Errorf("agent on the host is not the real one after the round (%v)", err)
			}
		})
		if !ok && i == 0 {
			t.FailNow()
		}
	}
}

// TestCollectCachedAgentFailureRunsOnce checks that an agent that fails
// on the cached path is not run a second time by a fallback.
func TestCollectCachedAgentFailureRunsOnce(t *testing.T) {
	onlyOnLinux(t, "the fleet's shell wrapper needs Linux")
	id := testkey.New(t)
	execs := newExecLog(t)
	ctx := context.Background()
	h, hostKeys := oneHostFleet(t, execs.shell)
	c := New(Settings{Identity: id, Agents: fakeAgents{data: script("echo disk on fire >&2; exit 3")}, HostKeys: hostKeys,
		ConnectTimeout: 5 * time.Second, HandshakeTimeout: 5 * time.Second, Platforms: &memPlatforms{m: map[string]transport.Platform{}}})
	cl := demoClient(h)
	for i, want := range [][]string{{"detect", "run"}, {"cached"}} {
		col := c.Collect(ctx, cl)
		if col.Status != storage.StatusAgentError || !strings.Contains(col.Error, "disk on fire") || strings.Contains(col.Error, "starting agent") {
			t.Errorf("round %d: status %s, error %q; want the agent's own error", i+1, col.Status, col.Error)
		}
		if got := execs.take(t); !slices.Equal(got, want) {
			t.Errorf("round %d: host ran %q, want %q", i+1, got, want)
		}
	}
}

func otherArch(arch string) string {
	if arch == "arm64" {
		return "amd64"
	}
	return "arm64"
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
