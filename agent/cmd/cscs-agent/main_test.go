package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/internal/wine"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/modules/all"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// newRequest returns a valid request carrying nonce, whose report is
// encrypted to the fresh identity it also returns.
func newRequest(t *testing.T, nonce string) (*age.X25519Identity, protocol.Request) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, protocol.Request{Version: protocol.Version, Recipient: id.Recipient().String(), Nonce: nonce}
}

func requestJSON(t *testing.T, req protocol.Request) string {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runRequest runs the agent on req with s and returns what it printed on
// stdout, failing the test if run fails.
func runRequest(t *testing.T, req protocol.Request, s setup) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), nil, strings.NewReader(requestJSON(t, req)), &stdout, &stderr, s); err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	return stdout.Bytes()
}

func decryptReport(t *testing.T, id *age.X25519Identity, ciphertext []byte) protocol.Report {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(ciphertext), id)
	if err != nil {
		t.Fatalf("decrypt report: %v", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read decrypted report: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	var rep protocol.Report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, plain)
	}
	return rep
}

func TestRunCollectsAndEncrypts(t *testing.T) {
	id, req := newRequest(t, "bm9uY2Utb2YtdGhpcy1ydW4")
	req.CPUSampleMillis, req.ModuleTimeoutMillis = 100, 5000
	before := time.Now().UTC()
	stdout := runRequest(t, req, setup{builtin: all.Builtin()})
	if !bytes.HasPrefix(stdout, []byte("age-encryption.org/v1\n")) {
		t.Fatalf("stdout does not start with an age header: %q", stdout[:min(40, len(stdout))])
	}
	if bytes.Contains(stdout, []byte(req.Nonce)) {
		t.Fatal("the nonce appears in clear on stdout")
	}
	rep := decryptReport(t, id, stdout)

	if rep.Version != protocol.Version || rep.Nonce != req.Nonce || rep.Recipient != req.Recipient {
		t.Errorf("report envelope = version %d nonce %q recipient %q, want the request's", rep.Version, rep.Nonce, rep.Recipient)
	}
	if rep.OS != runtime.GOOS || rep.Arch != runtime.GOARCH || rep.AgentVersion != version {
		t.Errorf("report os/arch/version = %s/%s/%s", rep.OS, rep.Arch, rep.AgentVersion)
	}
	if rep.CollectedAt.Before(before.Add(-time.Second)) || rep.CollectedAt.Location() != time.UTC {
		t.Errorf("collected_at = %v, want a UTC time after %v", rep.CollectedAt, before)
	}
	values := map[string]float64{}
	var names []string
	for _, m := range rep.Modules {
		names = append(names, m.Name)
		switch {
		case m.Error != "" && m.Name == "eventlog" && wine.Running():
			t.Logf("module %s failed under Wine, whose wevtapi has no Security log: %s", m.Name, m.Error)
		case m.Error != "":
			t.Errorf("module %s failed: %s", m.Name, m.Error)
		}
		for _, mt := range m.Metrics {
			values[mt.Name] = mt.Value
		}
	}
	want := all.Builtin()
	if len(names) != len(want) {
		t.Fatalf("modules in report = %v, want all %d built-in ones", names, len(want))
	}
	for i, m := range want {
		if names[i] != m.Name() {
			t.Errorf("module %d = %q, want %q", i, names[i], m.Name())
		}
	}
	if p, ok := values[metrics.CPUPercent]; !ok || p < 0 || p > 100 {
		t.Errorf("cpu.percent = %v (present %v), want 0..100", p, ok)
	}
	if n := values[metrics.CPUCount]; n < 1 {
		t.Errorf("cpu.count = %v, want >= 1", n)
	}
	if p, ok := values[metrics.MemoryUsedPercent]; !ok || p < 0 || p > 100 {
		t.Errorf("memory.used_percent = %v (present %v), want 0..100", p, ok)
	}
	if runtime.GOOS == "linux" {
		if values[metrics.MemoryTotalBytes] <= 0 {
			t.Errorf("memory.total_bytes = %v, want > 0", values[metrics.MemoryTotalBytes])
		}
		if values[metrics.UptimeSeconds] <= 0 {
			t.Errorf("uptime.seconds = %v, want > 0", values[metrics.UptimeSeconds])
		}
		if _, ok := values[metrics.Load1]; !ok {
			t.Error("load.1 missing on linux")
		}
	}
	if sp, ok := values[metrics.SwapUsedPercent]; !ok || sp < 0 || sp > 100 {
		t.Errorf("swap.used_percent = %v (present %v), want 0..100", sp, ok)
	}
}

func TestRunRequestedModulesInOrder(t *testing.T) {
	id, req := newRequest(t, "n1")
	req.Modules = []string{"uptime", "gpu", "memory"}
	rep := decryptReport(t, id, runRequest(t, req, setup{builtin: all.Builtin()}))
	if len(rep.Modules) != 3 {
		t.Fatalf("modules = %+v, want 3 entries", rep.Modules)
	}
	for i, name := range req.Modules {
		if rep.Modules[i].Name != name {
			t.Errorf("module %d = %q, want %q", i, rep.Modules[i].Name, name)
		}
	}
	if e := rep.Modules[1].Error; !strings.Contains(e, `unknown module "gpu"`) || !strings.Contains(e, "known: cpu, memory") {
		t.Errorf("unknown module error = %q", e)
	}
	if rep.Modules[0].Error != "" || rep.Modules[2].Error != "" {
		t.Errorf("known modules failed: %+v", rep.Modules)
	}
}

func TestRunBadRequests(t *testing.T) {
	id, good := newRequest(t, "abc")
	with := func(change func(*protocol.Request)) string {
		r := good
		change(&r)
		return requestJSON(t, r)
	}
	tests := map[string]struct {
		args     []string
		stdin    string
		wantCode int
		wantText string
	}{
		"empty stdin":     {stdin: "", wantCode: protocol.ExitBadRequest, wantText: "no request on stdin"},
		"bad json":        {stdin: `{"version":1,`, wantCode: protocol.ExitBadRequest, wantText: "not valid JSON"},
		"wrong type":      {stdin: `{"version":"one"}`, wantCode: protocol.ExitBadRequest, wantText: "does not match the protocol"},
		"wrong version":   {stdin: with(func(r *protocol.Request) { r.Version = 99 }), wantCode: protocol.ExitBadRequest, wantText: "protocol version 99"},
		"missing version": {stdin: with(func(r *protocol.Request) { r.Version = 0 }), wantCode: protocol.ExitBadRequest, wantText: "protocol version 0"},
		"bad recipient": {
			stdin:    with(func(r *protocol.Request) { r.Recipient = "age1notakey" }),
			wantCode: protocol.ExitBadRequest, wantText: "not an age X25519 public key",
		},
		"secret key as recipient": {
			stdin:    with(func(r *protocol.Request) { r.Recipient = id.String() }),
			wantCode: protocol.ExitBadRequest, wantText: "not an age X25519 public key",
		},
		"no nonce":         {stdin: with(func(r *protocol.Request) { r.Nonce = "" }), wantCode: protocol.ExitBadRequest, wantText: "no nonce"},
		"huge nonce":       {stdin: with(func(r *protocol.Request) { r.Nonce = strings.Repeat("n", 1000) }), wantCode: protocol.ExitBadRequest, wantText: "nonce"},
		"negative timeout": {stdin: with(func(r *protocol.Request) { r.ModuleTimeoutMillis = -1 }), wantCode: protocol.ExitBadRequest, wantText: "negative"},
		"oversized stdin":  {stdin: `{"nonce":"` + strings.Repeat("x", maxRequestBytes) + `"}`, wantCode: protocol.ExitBadRequest, wantText: "larger than"},
		"positional arg":   {args: []string{"age1abc"}, stdin: with(func(*protocol.Request) {}), wantCode: exitUsage, wantText: "unexpected argument"},
		"unknown flag":     {args: []string{"-recipient=x"}, stdin: with(func(*protocol.Request) {}), wantCode: exitUsage, wantText: "only flag is -version"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(tc.stdin), &stdout, &stderr, setup{builtin: all.Builtin()})
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			if got := exitCode(err); got != tc.wantCode {
				t.Errorf("exit code = %d, want %d (error %v)", got, tc.wantCode, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error = %q, want it to mention %q", err, tc.wantText)
			}
			if strings.Contains(err.Error(), "AGE-SECRET-KEY") {
				t.Errorf("error repeats secret key material: %q", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing on a bad request", stdout.String())
			}
		})
	}
}

func TestRunVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, strings.NewReader(""), &stdout, &stderr, setup{}); err != nil {
		t.Fatalf("run -version: %v", err)
	}
	if got := strings.TrimSpace(stdout.String()); got != version {
		t.Fatalf("-version printed %q, want %q", got, version)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunWriteFailure(t *testing.T) {
	_, req := newRequest(t, "n")
	req.Modules = []string{"uptime"}
	var stderr bytes.Buffer
	err := run(context.Background(), nil, strings.NewReader(requestJSON(t, req)), failingWriter{}, &stderr, setup{builtin: all.Builtin()})
	if got := exitCode(err); got != protocol.ExitEncrypt {
		t.Fatalf("exit code = %d (error %v), want %d", got, err, protocol.ExitEncrypt)
	}
}
