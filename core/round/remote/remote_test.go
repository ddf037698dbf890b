package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/agentstore"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/demo/sshfleet"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// fakeAgents serves the same bytes for every platform.
type fakeAgents struct {
	data []byte
	err  error
}

func (f fakeAgents) Get(goos, goarch string) (*agentstore.Agent, error) {
	if f.err != nil {
		return nil, f.err
	}
	data := f.data
	if goos != runtime.GOOS || goarch != runtime.GOARCH {
		// Another platform's agent is another file, as real builds are
		// (what is appended changes neither a script nor an ELF binary).
		data = append(slices.Clip(data), "\n# "+goos+"/"+goarch+"\n"...)
	}
	sum := sha256.Sum256(data)
	return &agentstore.Agent{OS: goos, Arch: goarch, Data: data, SHA256: hex.EncodeToString(sum[:])}, nil
}

func script(body string) []byte { return []byte("#!/bin/sh\n" + body + "\n") }

// TestCollectStatuses drives the pipeline against an in-process SSH fleet
// with agents that misbehave in each way a host can.
func TestCollectStatuses(t *testing.T) {
	onlyOnLinux(t, "the scripted agents need a POSIX shell and sha256sum")
	id := testkey.New(t)
	realAgent := thisMachinesAgent(t)
	replayed := captureReport(t, id)

	ctx := context.Background()
	h, hostKeys := oneHostFleet(t, "")
	empty, err := transport.NewHostKeys(filepath.Join(t.TempDir(), "known_hosts"), false)
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		agents   AgentSource
		hostKeys *transport.HostKeys
		password string
		want     storage.Status
		errPart  string
	}{
		"real agent":        {agents: fakeAgents{data: realAgent}, want: storage.StatusOK},
		"garbage on stdout": {agents: fakeAgents{data: script("echo not a report")}, want: storage.StatusBadReport, errPart: "report"},
		// A stand-in reads the start of the request, never to its end:
		// the core holds stdin open (holds_stdin) until output starts.
		"replayed report": {agents: fakeAgents{data: script("head -c 1 >/dev/null; cat " + replayed)}, want: storage.StatusBadReport, errPart: "nonce"},
		"agent exits 3":   {agents: fakeAgents{data: script("echo disk on fire >&2; exit 3")}, want: storage.StatusAgentError, errPart: "disk on fire"},
		"no agent for platform": {agents: fakeAgents{err: fmt.Errorf("no agent for linux/amd64")},
			want: storage.StatusAgentError, errPart: "linux/"},
		"unknown host key": {agents: fakeAgents{data: realAgent}, hostKeys: empty, want: storage.StatusHostKeyUnknown, errPart: "accept-new-host-keys"},
		"wrong password":   {agents: fakeAgents{data: realAgent}, password: "nope", want: storage.StatusAuthFailed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hk := tc.hostKeys
			if hk == nil {
				hk = hostKeys
			}
			pw := tc.password
			if pw == "" {
				pw = demoPassword
			}
			c := New(Settings{Identity: id, Agents: tc.agents, HostKeys: hk,
				ConnectTimeout: 2 * time.Second, HandshakeTimeout: 2 * time.Second, CPUSample: 50 * time.Millisecond})
			col := c.Collect(ctx, config.Client{IP: h.IP, Port: h.Port, Username: demoUser, Password: config.NewSecret(pw)})
			if col.Status != tc.want {
				t.Fatalf("status %s (%s), want %s", col.Status, col.Error, tc.want)
			}
			if !strings.Contains(col.Error, tc.errPart) {
				t.Errorf("error %q does not contain %q", col.Error, tc.errPart)
			}
			if tc.want == storage.StatusOK {
				if len(col.Samples) < 5 || col.Hostname == "" || col.OS != runtime.GOOS {
					t.Errorf("ok collection lacks data: %+v", col)
				}
				if col.Error != "" {
					t.Errorf("ok collection has error %q", col.Error)
				}
			}
		})
	}
}

// captureReport runs the real agent locally once and keeps its encrypted
// report: valid, but for another nonce.
func captureReport(t *testing.T, id *age.X25519Identity) string {
	t.Helper()
	bin := filepath.Join(testagent.Dir(t), agentstore.FileName(runtime.GOOS, runtime.GOARCH))
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(fmt.Sprintf(`{"version":%d,"recipient":%q,"nonce":"an-old-nonce-from-another-round","modules":["uptime"]}`,
		protocol.Version, id.Recipient().String()))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the agent locally: %v", err)
	}
	path := filepath.Join(t.TempDir(), "old-report.age")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFillFromReportKeepsModuleErrors(t *testing.T) {
	rep := &protocol.Report{Hostname: "h", OS: "linux", Arch: "amd64", AgentVersion: "v1",
		CollectedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Modules: []protocol.ModuleResult{
			{Name: "cpu", Metrics: []protocol.Metric{{Name: "cpu.percent", Value: 12.5, Unit: "percent"}}},
			{Name: "swap", Error: "no swap counters"},
			{Name: "authlog", Events: []protocol.Event{{Channel: "auth", RecordID: 7, Time: time.Date(2026, 11, 25, 11, 59, 0, 0, time.UTC),
				EventID: 4625, Message: "failed login", Fields: map[string]string{"computer": "h1", "user": "root"}}}},
		}}
	var col storage.Collection
	fillFromReport(&col, rep)
	if col.Status != storage.StatusOK || len(col.Samples) != 1 || col.Samples[0].Value != 12.5 {
		t.Fatalf("got %+v", col)
	}
	if !col.Samples[0].Time.Equal(rep.CollectedAt) {
		t.Errorf("sample time %v", col.Samples[0].Time)
	}
	if len(col.Events) != 1 || col.Events[0].RecordID != 7 || col.Events[0].Computer != "h1" || col.Events[0].Fields["user"] != "root" {
		t.Errorf("events %+v", col.Events)
	}
	if !strings.Contains(col.Error, "swap: no swap counters") {
		t.Errorf("module error lost: %q", col.Error)
	}
}

// The user and password the test fleets accept.
const (
	demoUser     = "demo"
	demoPassword = "pw"
)

// demoClient is the configured client of h, logging in as demoUser with
// demoPassword.
func demoClient(h sshfleet.Host) config.Client {
	return config.Client{IP: h.IP, Port: h.Port, Username: demoUser, Password: config.NewSecret(demoPassword)}
}

// oneHostFleet starts an in-process fleet of one host (demoUser with
// demoPassword, shell as sshfleet.Options.Shell) for the test, and
// returns the host with host keys that know it.
func oneHostFleet(t *testing.T, shell string) (sshfleet.Host, *transport.HostKeys) {
	t.Helper()
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 1, User: demoUser, Password: demoPassword, TempRoot: t.TempDir(), Shell: shell})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, fleet.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKeys, err := transport.NewHostKeys(known, false)
	if err != nil {
		t.Fatal(err)
	}
	return fleet.Hosts()[0], hostKeys
}

// onlyOnLinux skips the test on other systems; why says what needs Linux.
func onlyOnLinux(t *testing.T, why string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip(why)
	}
}

// thisMachinesAgent is the agent binary built for this machine.
func thisMachinesAgent(t *testing.T) []byte {
	t.Helper()
	agent, err := os.ReadFile(filepath.Join(testagent.Dir(t), agentstore.FileName(runtime.GOOS, runtime.GOARCH)))
	if err != nil {
		t.Fatal(err)
	}
	return agent
}

// TestMaxUploads: Settings.MaxUploads bounds the hosts in an upload at
// once; a host beyond it waits for a slot or for its context.
func TestMaxUploads(t *testing.T) {
	c := New(Settings{Identity: testkey.New(t), MaxUploads: 2})
	var done []func()
	for range 2 {
		d, err := c.uploading(t.Context())
		if err != nil {
			t.Fatalf("upload slot within the bound: %v", err)
		}
		done = append(done, d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.uploading(ctx); err == nil {
		t.Fatal("a third upload started with MaxUploads 2")
	}
	done[0]()
	d, err := c.uploading(t.Context())
	if err != nil {
		t.Fatalf("upload slot after one was given back: %v", err)
	}
	d()
	done[1]()

	if got := cap(New(Settings{Identity: testkey.New(t)}).uploads); got != DefaultMaxUploads {
		t.Errorf("default upload bound %d, want %d", got, DefaultMaxUploads)
	}
}
