//go:build unix

package extmod

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/agentmod"
)

// goModuleEnv makes the test binary act as a Go module served by
// agentmod.Run.
const goModuleEnv = "CSCS_EXTMOD_TEST_GO_MODULE"

func TestMain(m *testing.M) {
	if os.Getenv(goModuleEnv) == "1" {
		agentmod.Run(func(ctx context.Context, req agentmod.Request) (agentmod.Result, error) {
			n, _ := req.Config["sessions"].(float64)
			return agentmod.Result{
				Metrics: []agentmod.Metric{{Name: req.Source + ".sessions", Value: n, Unit: "count"}},
				Cursor:  req.Cursor + "+go",
			}, nil
		})
	}
	os.Exit(m.Run())
}

// install copies testdata/name into dir as a private executable and
// returns a module of source "users" that runs it.
func install(t *testing.T, dir, name string) protocol.ExternalModule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return installData(t, dir, name, data)
}

func installData(t *testing.T, dir, name string, data []byte) protocol.ExternalModule {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return protocol.ExternalModule{Source: "users", Path: p, SHA256: hex.EncodeToString(sum[:])}
}

func agentDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRunModules(t *testing.T) {
	dir := agentDir(t)
	tests := map[string]struct {
		module      func(m protocol.ExternalModule) protocol.ExternalModule
		script      string
		wantErr     string // empty: success
		wantMetrics []protocol.Metric
		check       func(t *testing.T, res protocol.ModuleResult)
	}{
		"metrics": {
			script:      "users.sh",
			wantMetrics: []protocol.Metric{{Name: "users.logged_in", Value: 3, Unit: "count"}},
		},
		"through an interpreter by absolute path": {
			script: "users.sh",
			module: func(m protocol.ExternalModule) protocol.ExternalModule {
				m.Interpreter = []string{"/bin/sh"}
				return m
			},
			wantMetrics: []protocol.Metric{{Name: "users.logged_in", Value: 3, Unit: "count"}},
		},
		"through an interpreter found in PATH": {
			script: "users.sh",
			module: func(m protocol.ExternalModule) protocol.ExternalModule {
				m.Interpreter = []string{"sh", "-e"}
				return m
			},
			wantMetrics: []protocol.Metric{{Name: "users.logged_in", Value: 3, Unit: "count"}},
		},
		"events cursor and raw": {
			script: "events.sh",
			check: func(t *testing.T, res protocol.ModuleResult) {
				want := protocol.Event{
					Channel: "auth", RecordID: 42, Time: time.Date(2025, 11, 25, 9, 0, 0, 0, time.UTC), Level: "warning",
					Provider: "sshd", Message: "Failed password for root", Fields: map[string]string{"ip": "10.0.0.9"},
				}
				if len(res.Events) != 1 || !sameEvent(res.Events[0], want) {
					t.Errorf("events %+v, want [%+v]", res.Events, want)
				}
				if res.Cursor != "42" || res.Raw != "line 1\nline 2" {
					t.Errorf("cursor %q raw %q", res.Cursor, res.Raw)
				}
			},
		},
		"non-zero exit": {
			script:  "fails.sh",
			wantErr: "exited with status 2: cannot read /var/run/utmp: ?[31mpermission denied | second line",
		},
		"killed by a signal": {script: "signalled.sh", wantErr: "ended with signal: killed"},
		"garbage":            {script: "garbage.sh", wantErr: `stdout is not an exec protocol result: invalid character 'U'`},
		"nothing printed":    {script: "silent.sh", wantErr: "printed nothing on stdout"},
		"misspelt field":     {script: "misspelt.sh", wantErr: `unknown field "metric"`},
		"two objects":        {script: "two-objects.sh", wantErr: "more than one JSON object"},
		"foreign metric":     {script: "foreign-metric.sh", wantErr: `invalid result: metric name "cpu.percent" does not start with "users."`},
		"out of range value": {script: "out-of-range.sh", wantErr: "stdout is not an exec protocol result"},
		"floods stdout":      {script: "floods.sh", wantErr: "printed more than 4194304 bytes on stdout; killed it"},
		"interpreter missing": {
			script: "users.sh",
			module: func(m protocol.ExternalModule) protocol.ExternalModule {
				m.Interpreter = []string{"no-such-interpreter-cscs"}
				return m
			},
			wantErr: `could not start ` + filepath.Join(dir, "users.sh") + ` with interpreter no-such-interpreter-cscs: "no-such-interpreter-cscs" is not an executable in $PATH`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := install(t, dir, tc.script)
			if tc.module != nil {
				m = tc.module(m)
			}
			start := time.Now()
			got := Runner{Dir: dir, DefaultTimeout: 10 * time.Second}.Run(testContext(t), []protocol.ExternalModule{m}, nil)
			if elapsed := time.Since(start); elapsed > 8*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if len(got) != 1 || got[0].Name != "users" {
				t.Fatalf("results %+v, want one entry named users", got)
			}
			res := got[0]
			if tc.wantErr != "" {
				if !strings.Contains(res.Error, tc.wantErr) {
					t.Errorf("error %q, want it to contain %q", res.Error, tc.wantErr)
				}
				if len(res.Metrics) != 0 || len(res.Events) != 0 || res.Cursor != "" || res.Raw != "" {
					t.Errorf("failed module yields data: %+v", res)
				}
				return
			}
			if res.Error != "" {
				t.Fatalf("error %q", res.Error)
			}
			if res.DurationMS <= 0 {
				t.Errorf("duration %v ms", res.DurationMS)
			}
			if tc.wantMetrics != nil && !sameMetrics(res.Metrics, tc.wantMetrics) {
				t.Errorf("metrics %+v, want %+v", res.Metrics, tc.wantMetrics)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

func TestRunRefusesUnsafeArtifacts(t *testing.T) {
	dir := agentDir(t)
	elsewhere := agentDir(t)
	// marker installs marker.sh in dir and changes the module's request.
	marker := func(change func(m *protocol.ExternalModule)) func(*testing.T) protocol.ExternalModule {
		return func(t *testing.T) protocol.ExternalModule {
			m := install(t, dir, "marker.sh")
			change(&m)
			return m
		}
	}
	tests := map[string]struct {
		// prepare returns the module to run; the script must not run.
		prepare func(t *testing.T) protocol.ExternalModule
		dir     string // the runner's directory; default dir
		wantErr string
	}{
		"wrong checksum": {
			prepare: marker(func(m *protocol.ExternalModule) { m.SHA256 = strings.Repeat("ab", 32) }),
			wantErr: protocol.ErrorChecksumPrefix + ": " + filepath.Join(dir, "marker.sh") + " has SHA-256 ",
		},
		"missing file": {
			prepare: marker(func(m *protocol.ExternalModule) { m.Path = filepath.Join(dir, "gone.sh") }),
			wantErr: protocol.ErrorChecksumPrefix + ": " + filepath.Join(dir, "gone.sh") + " is missing",
		},
		"checksum not hex": {
			prepare: marker(func(m *protocol.ExternalModule) { m.SHA256 = "sha256:abc" }),
			wantErr: `requested sha256 "sha256:abc" is not 64 hex digits`,
		},
		"outside the agent's directory": {
			prepare: func(t *testing.T) protocol.ExternalModule { return install(t, elsewhere, "marker.sh") },
			wantErr: "is not directly in the agent's directory",
		},
		"in a subdirectory": {
			prepare: func(t *testing.T) protocol.ExternalModule {
				sub := filepath.Join(dir, "sub")
				if err := os.Mkdir(sub, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
					t.Fatal(err)
				}
				return install(t, sub, "marker.sh")
			},
			wantErr: "is not directly in the agent's directory",
		},
		"relative path": {
			prepare: marker(func(m *protocol.ExternalModule) { m.Path = "marker.sh" }),
			wantErr: `path "marker.sh" is not a clean absolute path`,
		},
		"dot-dot path": {
			prepare: marker(func(m *protocol.ExternalModule) { m.Path = elsewhere + "/../" + filepath.Base(dir) + "/marker.sh" }),
			wantErr: "is not a clean absolute path",
		},
		"symbolic link": {
			prepare: func(t *testing.T) protocol.ExternalModule {
				m := install(t, dir, "marker.sh")
				link := filepath.Join(dir, "link.sh")
				_ = os.Remove(link)
				if err := os.Symlink(m.Path, link); err != nil {
					t.Fatal(err)
				}
				m.Path = link
				return m
			},
			wantErr: "link.sh is a symbolic link; refusing to run it",
		},
		"writable by others": {
			prepare: func(t *testing.T) protocol.ExternalModule {
				m := installData(t, dir, "shared.sh", []byte("#!/bin/sh\ntouch ran.marker\n"))
				if err := os.Chmod(m.Path, 0o722); err != nil {
					t.Fatal(err)
				}
				return m
			},
			wantErr: "shared.sh is writable by others (mode 0722); refusing to run it",
		},
		"agent directory writable by others": {
			prepare: func(t *testing.T) protocol.ExternalModule {
				open := agentDir(t)
				if err := os.Chmod(open, 0o777); err != nil {
					t.Fatal(err)
				}
				return install(t, open, "marker.sh")
			},
			dir:     "open",
			wantErr: "is writable by others (mode 0777); refusing to run modules from it",
		},
		"a directory": {
			prepare: func(t *testing.T) protocol.ExternalModule {
				m := install(t, dir, "marker.sh")
				m.Path = filepath.Join(dir, "sub")
				_ = os.Mkdir(m.Path, 0o700)
				return m
			},
			wantErr: "is not a regular file",
		},
		"unknown agent directory": {
			prepare: func(t *testing.T) protocol.ExternalModule { return install(t, dir, "marker.sh") },
			dir:     "none",
			wantErr: "could not locate its own directory",
		},
		"bad source name": {
			prepare: marker(func(m *protocol.ExternalModule) { m.Source = "Users/../x" }),
			wantErr: `source name "Users/../x" is not lower_snake_case`,
		},
		"negative timeout": {
			prepare: marker(func(m *protocol.ExternalModule) { m.TimeoutMillis = -1 }),
			wantErr: "negative timeout_ms",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := tc.prepare(t)
			runnerDir := dir
			switch tc.dir {
			case "none":
				runnerDir = ""
			case "open":
				runnerDir = filepath.Dir(m.Path)
			}
			got := Runner{Dir: runnerDir}.Run(testContext(t), []protocol.ExternalModule{m}, nil)
			if len(got) != 1 || !strings.Contains(got[0].Error, tc.wantErr) {
				t.Fatalf("results %+v, want one error containing %q", got, tc.wantErr)
			}
			for _, d := range []string{dir, elsewhere, filepath.Dir(m.Path)} {
				if _, err := os.Stat(filepath.Join(d, "ran.marker")); err == nil {
					t.Fatalf("the refused module ran (marker in %s)", d)
				}
			}
		})
	}
}

func TestRunKillsAtDeadline(t *testing.T) {
	dir := agentDir(t)
	m := install(t, dir, "sleeper.sh")
	m.TimeoutMillis = 300
	start := time.Now()
	got := Runner{Dir: dir}.Run(testContext(t), []protocol.ExternalModule{m}, nil)
	elapsed := time.Since(start)
	if want := "did not finish within 300ms; killed it and its process group"; !strings.Contains(got[0].Error, want) {
		t.Fatalf("error %q, want %q", got[0].Error, want)
	}
	// The module's child sleeps 30 s: well before that shows it was not
	// waited for, with room for a loaded machine.
	if elapsed < 300*time.Millisecond || elapsed > 10*time.Second {
		t.Errorf("returned after %v, want soon after the 300ms deadline, not when the module's child ends", elapsed)
	}
	assertGone(t, filepath.Join(dir, "sleeper.pid"))
}

func TestRunKillsLeftovers(t *testing.T) {
	dir := agentDir(t)
	m := install(t, dir, "leaves-child.sh")
	start := time.Now()
	got := Runner{Dir: dir}.Run(testContext(t), []protocol.ExternalModule{m}, nil)
	if got[0].Error != "" || len(got[0].Metrics) != 1 {
		t.Fatalf("result %+v, want the metric despite the leftover child", got[0])
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v; the leftover child (30 s) held the report up", elapsed)
	}
	assertGone(t, filepath.Join(dir, "leftover.pid"))
}

func TestRunPassesRequest(t *testing.T) {
	dir := agentDir(t)
	m := install(t, dir, "saves-request.sh")
	m.Config = map[string]any{"min_uid": float64(1000), "ttys": []any{"pts"}}
	m.Cursor = "c-41"
	tests := map[string]struct {
		timeoutMillis int
		runnerDefault time.Duration
		wantDeadline  int
	}{
		"own timeout":     {timeoutMillis: 1500, runnerDefault: 5 * time.Second, wantDeadline: 1500},
		"request default": {runnerDefault: 4 * time.Second, wantDeadline: 4000},
		"agent default":   {wantDeadline: int(DefaultTimeout / time.Millisecond)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m.TimeoutMillis = tc.timeoutMillis
			got := Runner{Dir: dir, DefaultTimeout: tc.runnerDefault}.Run(testContext(t), []protocol.ExternalModule{m}, nil)
			if got[0].Error != "" {
				t.Fatalf("error %q", got[0].Error)
			}
			data, err := os.ReadFile(filepath.Join(dir, "request.json"))
			if err != nil {
				t.Fatal(err)
			}
			var req agentmod.Request
			dec := json.NewDecoder(strings.NewReader(string(data)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				t.Fatalf("request %q: %v", data, err)
			}
			if req.Version != agentmod.Version || req.Source != "users" || req.DeadlineMS != tc.wantDeadline || req.Cursor != "c-41" ||
				req.Config["min_uid"] != float64(1000) || len(req.Config["ttys"].([]any)) != 1 {
				t.Errorf("module got request %+v", req)
			}
		})
	}
}

func TestRunGoModule(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := agentDir(t)
	m := installData(t, dir, "users-go", data)
	m.Config = map[string]any{"sessions": float64(5)}
	m.Cursor = "c"
	t.Setenv(goModuleEnv, "1")
	got := Runner{Dir: dir}.Run(testContext(t), []protocol.ExternalModule{m}, nil)
	want := []protocol.Metric{{Name: "users.sessions", Value: 5, Unit: "count"}}
	if got[0].Error != "" || !sameMetrics(got[0].Metrics, want) || got[0].Cursor != "c+go" {
		t.Fatalf("result %+v, want metrics %+v and cursor c+go", got[0], want)
	}
}

func TestRunNamesAndConcurrency(t *testing.T) {
	dir := agentDir(t)
	ok := install(t, dir, "users.sh")
	// meet-a and meet-b answer only when they run side by side.
	meet, err := os.ReadFile(filepath.Join("testdata", "meet.sh"))
	if err != nil {
		t.Fatal(err)
	}
	meetA, meetB := installData(t, dir, "meet-a.sh", meet), installData(t, dir, "meet-b.sh", meet)
	meetA.Source, meetB.Source = "meet_a", "meet_b"
	meetA.TimeoutMillis, meetB.TimeoutMillis = 10000, 10000
	dup := ok
	builtinClash := ok
	builtinClash.Source = "cpu"
	got := Runner{Dir: dir}.Run(testContext(t), []protocol.ExternalModule{meetA, ok, dup, builtinClash, meetB}, []string{"cpu", "memory"})
	wantNames := []string{"meet_a", "users", "meet_b"}
	if len(got) != len(wantNames) {
		t.Fatalf("got %d results %+v, want %d: repeated and built-in names are skipped", len(got), got, len(wantNames))
	}
	for i, res := range got {
		if res.Name != wantNames[i] || res.Error != "" || len(res.Metrics) != 1 {
			t.Errorf("result %d = %q error %q metrics %v, want %q with one metric (the meet modules need each other running)",
				i, res.Name, res.Error, res.Metrics, wantNames[i])
		}
	}
}

func TestRunStoppedWithTheAgent(t *testing.T) {
	dir := agentDir(t)
	m := install(t, dir, "sleeper.sh")
	ctx, cancel := context.WithCancel(testContext(t))
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	got := Runner{Dir: dir}.Run(ctx, []protocol.ExternalModule{m}, nil)
	if !strings.Contains(got[0].Error, "stopped because the agent was stopped") {
		t.Fatalf("error %q", got[0].Error)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v; the module's child (30 s) held the run up", elapsed)
	}
	assertGone(t, filepath.Join(dir, "sleeper.pid"))
}

// assertGone checks that the process whose pid is in pidFile no longer
// runs (a zombie waiting for a reaper counts as gone).
func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the module did not record its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the module still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	defer f.Close()
	stat, _ := io.ReadAll(f)
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && strings.HasPrefix(string(stat[i:]), ") Z")
}

func sameMetrics(a, b []protocol.Metric) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func sameEvent(a, b protocol.Event) bool {
	if !a.Time.Equal(b.Time) || a.Time.Location() != time.UTC {
		return false
	}
	a.Time, b.Time = time.Time{}, time.Time{}
	af, bf := a.Fields, b.Fields
	a.Fields, b.Fields = nil, nil
	if a.Channel != b.Channel || a.RecordID != b.RecordID || a.Level != b.Level || a.Provider != b.Provider || a.EventID != b.EventID || a.Message != b.Message {
		return false
	}
	if len(af) != len(bf) {
		return false
	}
	for k, v := range af {
		if bf[k] != v {
			return false
		}
	}
	return true
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
