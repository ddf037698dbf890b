//go:build linux

package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// lifetimePlan plans either the built-in cpu module alone (with the
// Collector's CPUSample) or one external module, a script that hangs.
type lifetimePlan struct {
	external *sources.External
}

func (p lifetimePlan) PlanFor(context.Context, source.Platform) sources.Plan {
	if p.external != nil {
		return sources.Plan{External: []sources.External{*p.external}}
	}
	return sources.Plan{Builtins: []string{"cpu"}}
}
func (lifetimePlan) Decoder(string) (source.Decoder, bool) { return nil, false }
func (lifetimePlan) Unit(string) (string, bool)            { return "", false }

// TestIntegrationNothingOutlivesTheRound runs this machine's agent on a
// real OpenSSH sshd with work that would last minutes (an external module
// that sleeps, or a CPU window of ten minutes), ends the round early (the
// host's timeout, or a cancel as Ctrl-C does) and checks that neither the
// agent nor the module, nor what the module started, is left on the host.
func TestIntegrationNothingOutlivesTheRound(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	h := fleet.Hosts[0]
	known := filepath.Join(t.TempDir(), "known_hosts")
	mustDo(t, os.WriteFile(known, []byte(fleet.KnownHosts()), 0o600))
	hostKeys, err := transport.NewHostKeys(known, false)
	mustDo(t, err)
	cl := config.Client{IP: h.IP, Port: h.Port, Username: fleet.User, Key: fleet.KeyFile}
	realAgent := thisMachinesAgent(t)

	tests := []struct {
		name string
		// hangingModule: an external module sleeps; else the cpu module
		// samples for ten minutes.
		hangingModule bool
		// timeout ends the round by the host's deadline; else it is
		// cancelled once the work is seen running on the host.
		timeout    time.Duration
		wantStatus storage.Status
	}{
		{name: "host timeout, hung external module", hangingModule: true, timeout: 5 * time.Second, wantStatus: storage.StatusTimeout},
		{name: "host timeout, long CPU window", timeout: 5 * time.Second, wantStatus: storage.StatusTimeout},
		{name: "cancelled, hung external module", hangingModule: true, wantStatus: storage.StatusCancelled},
		{name: "cancelled, long CPU window", wantStatus: storage.StatusCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh agent and module per case (padding and a random
			// marker): the fleet shares /tmp and the process table with
			// other tests, so these name only this case's processes.
			marker := randomDigits(t)
			agent := append(append([]byte(nil), realAgent...), []byte(marker)...)
			agentPath := fmt.Sprintf("/tmp/cscs-%d/cscs-agent-%s", fleet.UID, digestOf(agent)[:16])
			t.Cleanup(func() { os.Remove(agentPath) })
			markers := []string{agentPath}
			settings := Settings{Identity: testkey.New(t), Agents: fakeAgents{data: agent}, HostKeys: hostKeys,
				ConnectTimeout: 10 * time.Second, HandshakeTimeout: 20 * time.Second, CPUSample: 10 * time.Minute}
			if tc.hangingModule {
				// The sleep is a child of the script, in its process group;
				// its fractional seconds are the marker.
				sleep := "sleep 600." + marker
				script := []byte("#!/bin/sh\n" + sleep + "\necho '{}'\n")
				sum := digestOf(script)
				modulePath := fmt.Sprintf("/tmp/cscs-%d/hang-%s.sh", fleet.UID, sum[:16])
				t.Cleanup(func() { os.Remove(modulePath) })
				markers = append(markers, modulePath, sleep)
				settings.Sources = lifetimePlan{external: &sources.External{Source: "hang", SHA256: sum,
					Artifact: source.Artifact{FileName: "hang.sh", Data: script, Interpreter: []string{"/bin/sh"}, Timeout: 10 * time.Minute}}}
			} else {
				settings.Sources = lifetimePlan{}
			}
			// The module's sleep, or the agent, is what must be seen
			// running before the round ends.
			running := markers[len(markers)-1]
			t.Cleanup(func() { killLeftovers(markers) })

			c := New(settings)
			if tc.timeout > 0 {
				// A first round, cancelled once the work runs, uploads the
				// files: the timed round spends its time on the host, not
				// on an upload (slow under the race detector).
				col, seen := roundCancelledWhenRunning(c, cl, running)
				if !seen {
					t.Fatalf("%q was never seen running in the round that uploads (status %s, error %q)", running, col.Status, col.Error)
				}
				assertNothingLeft(t, markers, time.Now())
			}

			var (
				col  storage.Collection
				seen bool
			)
			if tc.timeout > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
				defer cancel()
				watched := make(chan bool, 1)
				go func() { watched <- waitRunning(ctx, running) }()
				col = c.Collect(ctx, cl)
				cancel()
				seen = <-watched
			} else {
				col, seen = roundCancelledWhenRunning(c, cl, running)
			}
			returned := time.Now()
			t.Logf("round ended: status %s, error %q", col.Status, col.Error)
			if !seen {
				t.Fatalf("%q was never seen running on the host before the round ended (status %s, error %q)", running, col.Status, col.Error)
			}
			if col.Status != tc.wantStatus {
				t.Errorf("status %s, want %s (error %q)", col.Status, tc.wantStatus, col.Error)
			}
			assertNothingLeft(t, markers, returned)
		})
	}
}

// roundCancelledWhenRunning runs a round and cancels it, as Ctrl-C does,
// shortly after a process with running in its command line shows on the
// host (or after a minute); seen says whether it showed.
func roundCancelledWhenRunning(c *Collector, cl config.Client, running string) (storage.Collection, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	watched := make(chan bool, 1)
	go func() {
		seen := waitRunning(ctx, running)
		if seen {
			time.Sleep(200 * time.Millisecond) // well under way
		}
		cancel()
		watched <- seen
	}()
	col := c.Collect(ctx, cl)
	cancel()
	return col, <-watched
}

// waitRunning reports whether a process with running in its command line
// shows on the host before ctx ends.
func waitRunning(ctx context.Context, running string) bool {
	for ctx.Err() == nil {
		if len(processesWith([]string{running})) > 0 {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// assertNothingLeft fails the test unless, within 5 s of since, no
// process with one of markers in its command line runs on the host.
func assertNothingLeft(t *testing.T, markers []string, since time.Time) {
	t.Helper()
	var left []string
	for time.Since(since) < 5*time.Second {
		if left = processesWith(markers); len(left) == 0 {
			t.Logf("nothing left on the host %v after the round ended", time.Since(since).Round(time.Millisecond))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("5s after the round ended the host still runs:\n%s", strings.Join(left, "\n"))
}

// randomDigits is ten random decimal digits.
func randomDigits(t *testing.T) string {
	t.Helper()
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// processesWith lists the live processes whose command line contains one
// of markers, as "pid: command line".
func processesWith(markers []string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 { // gone, or a zombie
			continue
		}
		cmdline := string(bytes.ReplaceAll(bytes.TrimRight(raw, "\x00"), []byte{0}, []byte{' '}))
		for _, m := range markers {
			if strings.Contains(cmdline, m) {
				out = append(out, e.Name()+": "+cmdline)
				break
			}
		}
	}
	return out
}

// killLeftovers kills what a failed case left running, so that it does
// not run on for minutes.
func killLeftovers(markers []string) {
	for _, p := range processesWith(markers) {
		pid, err := strconv.Atoi(p[:strings.IndexByte(p, ':')])
		if err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
