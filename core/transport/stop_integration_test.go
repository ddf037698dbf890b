//go:build linux

package transport_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/transport"
)

// TestIntegrationRunHoldsStdin: on a POSIX host Run keeps the command's
// stdin open after the request until the command's output starts, so
// end of file on it means the core is gone.
func TestIntegrationRunHoldsStdin(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	c, p, ctx, _ := detectedClient(t, fleet)
	if !transport.HoldsStdin(p) {
		t.Fatalf("HoldsStdin(%+v) is false, want true on a POSIX host", p)
	}
	request := `{"version":1}`
	// The stand-in reads the request, then waits a second for end of file
	// on stdin, and says whether it came.
	agent := []byte("#!/bin/sh\nhead -c " + strconv.Itoa(len(request)) + " >/dev/null\n" +
		"if timeout 1 cat >/dev/null; then echo closed; else echo held; fi\n")
	a := transport.Artifact{Name: "cscs-agent", Data: agent}
	remotePath, _, err := c.Ensure(ctx, p, a)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := c.Run(ctx, p, remotePath, digestOf(agent), []byte(request), 1024)
	if err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr)
	}
	if got := strings.TrimSpace(string(stdout)); got != "held" {
		t.Errorf("the command saw its stdin %s after the request, want it held open", got)
	}
}

// TestIntegrationStopSignalsTheCommand: when the context of a Run ends,
// the command receives SIGTERM through the session (OpenSSH's sshd
// signals the session's process group) or, failing that, end of file on
// its stdin; either way it can stop, rather than run on with parent 1.
func TestIntegrationStopSignalsTheCommand(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	tests := []struct {
		name string
		// trap is how the stand-in learns it should stop.
		trap string
		want string
	}{
		{name: "SIGTERM", trap: `trap 'echo TERM >"$d/stopped"; exit 0' TERM; sleep 30 & wait`, want: "TERM"},
		// Without a trap for SIGTERM the shell would die of it: ignoring
		// it leaves end of file on stdin as the only sign.
		{name: "end of file on stdin", trap: `trap '' TERM; cat >/dev/null; echo EOF >"$d/stopped"`, want: "EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, p, _, dir := detectedClient(t, fleet)
			agent := []byte("#!/bin/sh\nd=$(dirname \"$0\")\nhead -c 1 >/dev/null\n: >\"$d/started\"\n" + tc.trap + "\n")
			a := transport.Artifact{Name: "cscs-agent", Data: agent}
			remotePath, _, err := c.Ensure(testContext(t), p, a)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(testContext(t))
			defer cancel()
			stoppedEarly := make(chan bool, 1)
			go func() {
				for ctx.Err() == nil {
					if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
						time.Sleep(100 * time.Millisecond) // past the trap
						_, err := os.Stat(filepath.Join(dir, "stopped"))
						stoppedEarly <- err == nil
						cancel()
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			_, _, err = c.Run(ctx, p, remotePath, digestOf(agent), []byte("{}"), 1024)
			if <-stoppedEarly {
				t.Fatal("the command was told to stop before the context ended")
			}
			if transport.KindOf(err) != transport.Cancelled {
				t.Fatalf("run: %v (kind %v), want Cancelled", err, transport.KindOf(err))
			}
			var got []byte
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if got, err = os.ReadFile(filepath.Join(dir, "stopped")); err == nil && len(got) > 0 {
					break
				}
			}
			if strings.TrimSpace(string(got)) != tc.want {
				t.Errorf("the command noted %q within 5 s of the cancel, want %q", got, tc.want)
			}
		})
	}
}
