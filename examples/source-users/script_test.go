//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/agentmod"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/source"
)

// shippedScript writes the artifact the source hands the core for
// linux/amd64 (fetched through the SDK's gRPC client) into a fresh
// directory, as the core would on a host, and returns its path and
// interpreter.
func shippedScript(t *testing.T) (string, []string) {
	t.Helper()
	m, err := sdktest.Source(t, Source{}).Module(t.Context(), source.Platform{OS: "linux", Arch: "amd64"})
	if err != nil || m.Artifact == nil {
		t.Fatalf("Module(linux/amd64) = %+v, %v; want the script", m, err)
	}
	path := filepath.Join(t.TempDir(), m.Artifact.FileName)
	if err := os.WriteFile(path, m.Artifact.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	return path, m.Artifact.Interpreter
}

// fakeWho returns a directory holding a `who` command that prints the
// fixture testdata/who/<fixture>, or fails when fixture is "".
func fakeWho(t *testing.T, fixture string) string {
	t.Helper()
	dir := t.TempDir()
	body := "#!/bin/sh\necho 'who: cannot open /var/run/utmp' >&2\nexit 1\n"
	if fixture != "" {
		data, err := os.ReadFile(filepath.Join("testdata", "who", fixture))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "who.out"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		body = "#!/bin/sh\ncat \"$(dirname \"$0\")/who.out\"\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "who"), []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runModule runs the script as the agent does: interpreter, then the
// script's path, in the script's directory, an agentmod.Request on stdin.
// pathPrefix, when set, goes before PATH.
func runModule(t *testing.T, interpreter []string, script, pathPrefix string) (stdout, stderr []byte, err error) {
	t.Helper()
	req, err := json.Marshal(agentmod.Request{Version: agentmod.Version, Source: Name, DeadlineMS: int(moduleTimeout / time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	// The test's own bound is generous: a busy CI machine must not kill a
	// script that is only slow to start; the agent enforces moduleTimeout.
	ctx, cancel := context.WithTimeout(t.Context(), max(moduleTimeout, time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter[0], append(interpreter[1:], script)...)
	cmd.Dir = filepath.Dir(script)
	path := os.Getenv("PATH")
	if pathPrefix != "" {
		path = pathPrefix + string(os.PathListSeparator) + path
	}
	cmd.Env = append(os.Environ(), "PATH="+path)
	cmd.Stdin = bytes.NewReader(req)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// parseResult decodes stdout as strictly as the agent does (one object,
// no unknown fields, nothing after it) and checks it with the agent's
// rules (agentmod.Result.Validate).
func parseResult(t *testing.T, stdout []byte) agentmod.Result {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	var res agentmod.Result
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not an agentmod.Result: %v\n%s", err, stdout)
	}
	if rest := bytes.TrimSpace(stdout[dec.InputOffset():]); len(rest) > 0 {
		t.Fatalf("stdout has data after the result: %q", rest)
	}
	if err := res.Validate(Name); err != nil {
		t.Fatalf("the agent would refuse the result: %v\n%s", err, stdout)
	}
	return res
}

// shells are the interpreters the script must work with: the artifact's
// own (/bin/sh), and bash and dash when installed (macOS's /bin/sh is
// bash; Debian's is dash).
func shells(t *testing.T, artifact []string) map[string][]string {
	t.Helper()
	out := map[string][]string{"artifact " + strings.Join(artifact, " "): artifact}
	for _, name := range []string{"bash", "dash"} {
		if path, err := exec.LookPath(name); err == nil {
			out[name] = []string{path}
		}
	}
	return out
}

func TestScriptCountsSessions(t *testing.T) {
	t.Parallel()
	script, interpreter := shippedScript(t)
	cases := map[string]struct {
		fixture            string
		loggedIn, distinct float64
	}{
		"nobody logged in":           {fixture: "nobody.txt"},
		"linux, two users":           {fixture: "linux-two-users.txt", loggedIn: 3, distinct: 2},
		"darwin, three users":        {fixture: "darwin-three-users.txt", loggedIn: 4, distinct: 3},
		"blank lines are no session": {fixture: "blank-lines.txt", loggedIn: 1, distinct: 1},
	}
	for shellName, shell := range shells(t, interpreter) {
		for name, tc := range cases {
			t.Run(shellName+"/"+name, func(t *testing.T) {
				t.Parallel()
				stdout, stderr, err := runModule(t, shell, script, fakeWho(t, tc.fixture))
				if err != nil {
					t.Fatalf("script: %v\nstderr: %s", err, stderr)
				}
				res := parseResult(t, stdout)
				want := []agentmod.Metric{
					{Name: "users.logged_in", Value: tc.loggedIn, Unit: "count"},
					{Name: "users.distinct", Value: tc.distinct, Unit: "count"},
				}
				if !reflect.DeepEqual(res.Metrics, want) {
					t.Errorf("metrics = %+v, want %+v", res.Metrics, want)
				}
				if len(res.Events) != 0 || res.Cursor != "" || res.Raw != "" {
					t.Errorf("result has more than metrics: %+v", res)
				}
			})
		}
	}
}

func TestScriptReportsFailingWho(t *testing.T) {
	t.Parallel()
	script, interpreter := shippedScript(t)
	stdout, stderr, err := runModule(t, interpreter, script, fakeWho(t, ""))
	if err == nil {
		t.Fatalf("script succeeded although who failed; stdout: %s", stdout)
	}
	if len(stdout) != 0 {
		t.Errorf("stdout = %q, want nothing on failure", stdout)
	}
	if !strings.Contains(string(stderr), "users: who failed") {
		t.Errorf("stderr = %q, want it to say who failed", stderr)
	}
}

func TestScriptWithRealWho(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("who"); err != nil {
		t.Skip("who is not installed")
	}
	script, interpreter := shippedScript(t)
	stdout, stderr, err := runModule(t, interpreter, script, "")
	if err != nil {
		t.Fatalf("script: %v\nstderr: %s", err, stderr)
	}
	res := parseResult(t, stdout)
	if len(res.Metrics) != 2 {
		t.Fatalf("metrics = %+v, want logged_in and distinct", res.Metrics)
	}
	loggedIn, distinct := res.Metrics[0].Value, res.Metrics[1].Value
	if distinct < 0 || distinct > loggedIn || (loggedIn > 0 && distinct == 0) {
		t.Errorf("logged_in %v, distinct %v: want 0 <= distinct <= logged_in, distinct > 0 when anyone is logged in", loggedIn, distinct)
	}
	t.Logf("this machine: %s", bytes.TrimSpace(stdout))
}
