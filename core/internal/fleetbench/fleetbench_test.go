package fleetbench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/demo/sshfleet"
)

func TestPayload(t *testing.T) {
	tests := map[string]struct {
		size, want int
	}{
		"floor size":          {size: FloorPayloadSize, want: FloorPayloadSize},
		"odd size":            {size: 100_003, want: 100_003},
		"smaller than header": {size: 3, want: len("#!/bin/sh\n" + FloorCommand + "\nexit 0\n")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := Payload(tc.size)
			if len(p) != tc.want {
				t.Fatalf("len = %d, want %d", len(p), tc.want)
			}
			if !bytes.HasPrefix(p, []byte("#!/bin/sh\n"+FloorCommand+"\nexit 0\n")) {
				t.Fatalf("payload does not start with the script header: %q", p[:40])
			}
		})
	}
}

func TestPayloadRunsAndExitsEarly(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skip("no /proc/loadavg here")
	}
	file := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(file, Payload(FloorPayloadSize), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(file).Output()
	if err != nil || len(strings.Fields(string(out))) != 5 {
		t.Fatalf("payload: %v, output %q; want /proc/loadavg's 5 fields", err, out)
	}
}

func TestResultMedian(t *testing.T) {
	s := func(wall, cpu time.Duration, rss int64) Sample { return Sample{Wall: wall, CPU: cpu, PeakRSS: rss} }
	tests := map[string]struct {
		samples []Sample
		want    Sample
		perSec  float64
	}{
		"three": {samples: []Sample{s(3*time.Second, 1, 30), s(time.Second, 3, 10), s(2*time.Second, 2, 20)}, want: s(2*time.Second, 2, 20), perSec: 50},
		"two":   {samples: []Sample{s(4*time.Second, 4, 40), s(time.Second, 1, 10)}, want: s(time.Second, 1, 10), perSec: 100},
		"none":  {want: Sample{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := Result{Hosts: 100, Samples: tc.samples}
			if got := r.Median(); got != tc.want {
				t.Fatalf("median = %+v, want %+v", got, tc.want)
			}
			if got := r.HostsPerSecond(); got != tc.perSec {
				t.Fatalf("hosts/s = %v, want %v", got, tc.perSec)
			}
		})
	}
}

func TestWriteTableAndRatios(t *testing.T) {
	var b strings.Builder
	err := WriteTable(&b, []Result{
		{Case: "floor exec", Hosts: 50, Samples: []Sample{{Wall: 500 * time.Millisecond, CPU: 50 * time.Millisecond, PeakRSS: 20 << 20}}},
		{Case: "pssh", Hosts: 50, Skipped: "not installed"},
		{Case: "cold", Hosts: 50, Note: "7 uploads", Samples: []Sample{{Wall: time.Second}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"floor exec", "0.500", "100.0", "0.050", "1.00", "20.0", "not installed", "50 hosts, cold: 7 uploads"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	ratios := []Ratio{
		{Name: "under", Value: 1.2, Target: 1.3},
		{Name: "over", Value: 1.5, Target: 1.3},
		{Name: "faster", Value: 2.9, Target: 1, AtLeast: true},
		{Name: "slower", Value: 0.9, Target: 1, AtLeast: true},
	}
	if err := WriteRatios(&b, ratios); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"under  1.20  target ≤ 1.30: met", "over   1.50  target ≤ 1.30: MISSED", "faster  2.90  target ≥ 1.00: met", "slower  0.90  target ≥ 1.00: MISSED"} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("ratios lack %q:\n%s", want, b.String())
		}
	}
}

func TestMeasureCountsCPUAndPeakRSS(t *testing.T) {
	const touched = 64 << 20
	var keep []byte
	s, err := Measure(func() error {
		keep = make([]byte, touched)
		for i := range keep {
			keep[i] = byte(i)
		}
		deadline := time.Now().Add(50 * time.Millisecond)
		for time.Now().Before(deadline) {
		}
		return nil
	})
	if err != nil {
		t.Skipf("no process accounting here: %v", err)
	}
	if s.Wall < 50*time.Millisecond || s.CPU <= 0 || s.PeakRSS < touched {
		t.Fatalf("sample %+v: want ≥50ms wall, some CPU and a peak RSS ≥ %d bytes", s, touched)
	}
}

// TestFloorAgainstInProcessFleet runs both floor programs against two
// in-process hosts.
func TestFloorAgainstInProcessFleet(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skip("the floor command reads /proc/loadavg")
	}
	signer, _ := newClientKey(t)
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 2, User: "bench", AuthorizedKey: signer.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	floor := Floor{User: "bench", Signer: signer, HostKeyCallback: fleet.HostKeyCallback(), Timeout: 10 * time.Second}
	for _, h := range fleet.Hosts() {
		floor.Addrs = append(floor.Addrs, h.Addr())
	}
	ctx := context.Background()
	if err := floor.Exec(ctx); err != nil {
		t.Fatalf("floor exec: %v", err)
	}
	tmp := t.TempDir()
	if err := floor.UploadAndRun(ctx, Payload(200_000), tmp); err != nil {
		t.Fatalf("floor upload+run: %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("floor left %d directories behind in %s", len(left), tmp)
	}
	wrong := floor
	wrong.User = "intruder"
	if err := wrong.Exec(ctx); err == nil {
		t.Fatal("floor exec with a user the fleet refuses succeeded")
	}
}

// newClientKey returns an ed25519 signer and its OpenSSH private key file.
func newClientKey(tb testing.TB) (ssh.Signer, string) {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "fleetbench")
	if err != nil {
		tb.Fatal(err)
	}
	file := filepath.Join(tb.TempDir(), "client_ed25519")
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	return signer, file
}

// TestChildFleet serves two hosts from a child process (this test binary
// re-executed) and reaches both with the floor.
func TestChildFleet(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skip("the floor command reads /proc/loadavg")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := newClientKey(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fleet, err := StartChildFleet(ctx, exe, 2, "bench", signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	if len(fleet.Addrs) != 2 {
		t.Fatalf("child fleet reported %d hosts, want 2", len(fleet.Addrs))
	}
	khFile := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(khFile, fleet.KnownHosts, 0o600); err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(khFile)
	if err != nil {
		t.Fatal(err)
	}
	floor := Floor{Addrs: fleet.Addrs, User: "bench", Signer: signer, HostKeyCallback: hostKeys, Timeout: 10 * time.Second}
	if err := floor.Exec(ctx); err != nil {
		t.Fatalf("floor exec against the child fleet: %v", err)
	}
	if err := fleet.Close(); err != nil {
		t.Fatalf("close child fleet: %v", err)
	}
}
