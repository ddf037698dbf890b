package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/agentmod"
	"github.com/cscs-dev/cscs/sdk/source"
)

// defaultModuleTimeout is the deadline of a module whose artifact sets
// none, as the agent's default.
const defaultModuleTimeout = 10 * time.Second

// RunModule runs the artifact of m, a module of the source named
// sourceName, on this machine the way the agent runs it on a host: the
// file alone in a private directory, through its interpreter (or
// executed), with req as JSON on stdin (Version, Source and DeadlineMS
// filled in when zero), killed at the deadline; its stdout is read as one
// Result with unknown fields refused, at most agentmod.MaxResultBytes,
// and validated for the source (Result.Validate). Any failure fails t
// with the module's stderr. Use it in a source's tests to run its module
// for the platform the tests run on.
func RunModule(t testing.TB, sourceName string, m source.Module, req agentmod.Request) agentmod.Result {
	t.Helper()
	a := m.Artifact
	if a == nil {
		t.Fatalf("module of %s: no artifact to run (built-in module %q runs only inside the agent)", sourceName, m.Builtin)
	}
	if a.FileName == "" || filepath.Base(a.FileName) != a.FileName {
		t.Fatalf("module of %s: artifact file name %q is not a plain file name", sourceName, a.FileName)
	}
	path := filepath.Join(t.TempDir(), a.FileName)
	if err := os.WriteFile(path, a.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = defaultModuleTimeout
	}
	if req.Version == 0 {
		req.Version = agentmod.Version
	}
	if req.Source == "" {
		req.Source = sourceName
	}
	if req.DeadlineMS == 0 {
		req.DeadlineMS = int(timeout / time.Millisecond)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("module of %s: encode the request: %v", sourceName, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(append([]string(nil), a.Interpreter...), path)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(path)
	// What the module started may hold its output open after it is
	// killed: stop waiting for it soon after.
	cmd.WaitDelay = 100 * time.Millisecond
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &stdout, n: agentmod.MaxResultBytes + 1}
	cmd.Stderr = &limitedWriter{w: &stderr, n: agentmod.MaxStderrBytes}
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("module of %s did not finish within its deadline of %s; stderr: %s", sourceName, timeout, strings.TrimSpace(stderr.String()))
	case err != nil:
		t.Fatalf("module of %s failed: %v; stderr: %s", sourceName, err, strings.TrimSpace(stderr.String()))
	case stdout.Len() > agentmod.MaxResultBytes:
		t.Fatalf("module of %s printed more than %d bytes; the agent kills it and drops the result", sourceName, agentmod.MaxResultBytes)
	}
	var res agentmod.Result
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("module of %s: stdout is not one result object (unknown fields are refused): %v\nstdout: %s", sourceName, err, clipText(stdout.String()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("module of %s printed something after its result object", sourceName)
	}
	if err := res.Validate(sourceName); err != nil {
		t.Fatalf("module of %s: the agent would refuse its result: %v", sourceName, err)
	}
	return res
}

// limitedWriter keeps at most n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// clipText shortens text for a failure message.
func clipText(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}
