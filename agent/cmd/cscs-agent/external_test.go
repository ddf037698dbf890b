package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/internal/testdir"

	"github.com/cscs-dev/cscs/agent/modules/all"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// shipped copies testdata/name into the agent's directory as the core
// would ship it, and returns the request entry for it.
func shipped(t *testing.T, dir, source, name string) protocol.ExternalModule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return protocol.ExternalModule{Source: source, Path: p, SHA256: hex.EncodeToString(sum[:])}
}

func TestRunExternalModules(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the external modules of this test are shell scripts")
	}
	dir := testdir.New(t)
	users := shipped(t, dir, "users", "users.sh")
	failing := shipped(t, dir, "wtmp", "exits-2.sh")
	tampered := shipped(t, dir, "tampered", "tampered.sh")
	tampered.SHA256 = strings.Repeat("0", 64)
	garbage := shipped(t, dir, "garbage", "garbage.sh")
	garbage.Interpreter = []string{"/bin/sh"}
	sleeper := shipped(t, dir, "sleeper", "sleeps.sh")
	sleeper.TimeoutMillis = 400

	tests := map[string]struct {
		builtin   []string
		wantNames []string
	}{
		"with a built-in module": {builtin: []string{"uptime"}, wantNames: []string{"uptime", "users", "wtmp", "tampered", "garbage", "sleeper"}},
		"external modules only":  {wantNames: []string{"users", "wtmp", "tampered", "garbage", "sleeper"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			id, req := newRequest(t, "external-nonce")
			req.Modules, req.ModuleTimeoutMillis = tc.builtin, 5000
			req.External = []protocol.ExternalModule{users, failing, tampered, garbage, sleeper}
			start := time.Now()
			stdout := runRequest(t, req, setup{builtin: all.Builtin(), dir: dir})
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("run took %v; the sleeper (30 s) was to be killed after 400ms", elapsed)
			}
			rep := decryptReport(t, id, stdout)
			if rep.Nonce != req.Nonce {
				t.Errorf("nonce %q", rep.Nonce)
			}
			byName := map[string]protocol.ModuleResult{}
			var names []string
			for _, m := range rep.Modules {
				names = append(names, m.Name)
				byName[m.Name] = m
			}
			if strings.Join(names, ",") != strings.Join(tc.wantNames, ",") {
				t.Fatalf("report entries %v, want %v", names, tc.wantNames)
			}
			if len(tc.builtin) > 0 && (byName["uptime"].Error != "" || len(byName["uptime"].Metrics) == 0) {
				t.Errorf("built-in uptime = %+v", byName["uptime"])
			}

			u := byName["users"]
			if u.Error != "" || len(u.Metrics) != 1 || !reflect.DeepEqual(u.Metrics[0], protocol.Metric{Name: "users.logged_in", Value: 3, Unit: "count"}) {
				t.Errorf("users = %+v, want users.logged_in = 3 count", u)
			}
			wantErrors := map[string]string{
				"wtmp":     "exited with status 2: cannot read /var/log/wtmp: permission denied",
				"tampered": protocol.ErrorChecksumPrefix + ": ",
				"garbage":  "stdout is not an exec protocol result",
				"sleeper":  "did not finish within 400ms; killed it",
			}
			for source, want := range wantErrors {
				got := byName[source]
				if !strings.Contains(got.Error, want) || len(got.Metrics) != 0 {
					t.Errorf("%s = %+v, want no metrics and an error containing %q", source, got, want)
				}
			}
			if !strings.HasPrefix(byName["tampered"].Error, protocol.ErrorChecksumPrefix) {
				t.Errorf("tampered error %q does not start with %q", byName["tampered"].Error, protocol.ErrorChecksumPrefix)
			}
			if _, err := os.Stat(filepath.Join(dir, "tampered.ran")); err == nil {
				t.Error("the module with the wrong checksum ran")
			}
			if d := byName["sleeper"].DurationMS; d < 400 || d > 2500 {
				t.Errorf("sleeper ran %v ms, want it killed at 400 ms", d)
			}
		})
	}
}
