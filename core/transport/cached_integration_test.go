//go:build linux

package transport_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/transport"
)

// TestIntegrationRunCached runs the cached path against a real sshd: the
// agent in place runs with stdin; missing, it is reported with the
// platform probed by the same command; tampered with, it fails its
// checksum without running; built for another platform, it is not in
// place.
func TestIntegrationRunCached(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	c, p, ctx, _ := detectedClient(t, fleet)
	agent := transport.Artifact{Name: "cscs-agent", Data: echoAgent}
	module := transport.Artifact{Name: "users.sh", Data: []byte("#!/bin/sh\necho '{}'\n")}
	agentPath, _, err := c.Ensure(ctx, p, agent)
	if err != nil {
		t.Fatal(err)
	}
	modulePath, _, err := c.Ensure(ctx, p, module)
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, err := c.RunCached(ctx, p, agent, []transport.Artifact{module}, []byte("request"), 1<<20)
	if err != nil || string(stdout) != "request" || len(stderr) != 0 {
		t.Fatalf("agent in place: stdout %q, stderr %q, %v; want the request echoed, nothing on stderr", stdout, stderr, err)
	}

	if err := os.Remove(modulePath); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.RunCached(ctx, p, agent, []transport.Artifact{module}, nil, 1<<20)
	var nip *transport.NotInPlaceError
	if !errors.As(err, &nip) || !errors.Is(err, transport.ErrNotInPlace) || !nip.Probed || nip.Platform != p {
		t.Fatalf("module missing: %v (%+v); want ErrNotInPlace with the probed platform %+v", err, nip, p)
	}

	if err := os.WriteFile(agentPath, []byte("#!/bin/sh\nid\n\n"), 0o700); err != nil { // same size
		t.Fatal(err)
	}
	stdout, _, err = c.RunCached(ctx, p, agent, nil, []byte("hi"), 1<<20)
	if !errors.Is(err, transport.ErrAgentChecksum) || len(stdout) != 0 {
		t.Fatalf("agent tampered with: stdout %q, %v; want ErrAgentChecksum and nothing run", stdout, err)
	}

	// An agent of another platform (an ELF header for no machine): the
	// shell cannot execute it, reported as not in place, without a probe.
	foreign := transport.Artifact{Name: "cscs-agent", Data: append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)}
	if _, _, err := c.Ensure(ctx, p, foreign); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.RunCached(ctx, p, foreign, nil, []byte("hi"), 1<<20)
	nip = nil
	if !errors.As(err, &nip) || nip.Probed || !strings.Contains(err.Error(), "could not be executed") {
		t.Fatalf("foreign agent: %v (%+v); want ErrNotInPlace without a probe, saying it could not be executed", err, nip)
	}
}
