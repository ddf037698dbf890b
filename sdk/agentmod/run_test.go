package agentmod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a module served by Run.
const helperEnv = "CSCS_AGENTMOD_TEST_MODULE"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "users":
		Run(func(ctx context.Context, req Request) (Result, error) {
			n, _ := req.Config["fixed"].(float64)
			return Result{Metrics: []Metric{{Name: req.Source + ".logged_in", Value: n, Unit: "count"}}, Cursor: req.Cursor + "+1"}, nil
		})
	case "fails":
		Run(func(context.Context, Request) (Result, error) {
			return Result{}, errors.New("cannot open /var/run/utmp: permission denied")
		})
	}
	os.Exit(m.Run())
}

func TestRunInProcess(t *testing.T) {
	metric := func(v float64) Result {
		return Result{Metrics: []Metric{{Name: "users.logged_in", Value: v, Unit: "count"}}}
	}
	tests := map[string]struct {
		stdin      string
		handler    Handler
		wantCode   int
		wantStdout *Result // nil: stdout must be empty
		wantStderr string
	}{
		"result written": {
			stdin:      `{"version":1,"source":"users","deadline_ms":5000}`,
			handler:    func(context.Context, Request) (Result, error) { return metric(3), nil },
			wantCode:   ExitOK,
			wantStdout: &Result{Metrics: metric(3).Metrics},
		},
		"unknown request fields ignored": {
			stdin:      `{"version":1,"source":"users","deadline_ms":5000,"added_later":true}`,
			handler:    func(context.Context, Request) (Result, error) { return metric(1), nil },
			wantCode:   ExitOK,
			wantStdout: &Result{Metrics: metric(1).Metrics},
		},
		"handler error": {
			stdin:      `{"version":1,"source":"users","deadline_ms":5000}`,
			handler:    func(context.Context, Request) (Result, error) { return Result{}, errors.New("utmp unreadable") },
			wantCode:   ExitFailed,
			wantStderr: "users: utmp unreadable\n",
		},
		"invalid result refused": {
			stdin: `{"version":1,"source":"users","deadline_ms":5000}`,
			handler: func(context.Context, Request) (Result, error) {
				return Result{Metrics: []Metric{{Name: "cpu.percent", Unit: "percent"}}}, nil
			},
			wantCode:   ExitFailed,
			wantStderr: `invalid result: metric name "cpu.percent" does not start with "users."`,
		},
		"empty stdin":  {stdin: "", wantCode: ExitBadRequest, wantStderr: "module: no request on stdin"},
		"not json":     {stdin: "hello", wantCode: ExitBadRequest, wantStderr: "not a JSON request object"},
		"old version":  {stdin: `{"version":0,"source":"users"}`, wantCode: ExitBadRequest, wantStderr: "version 0"},
		"bad source":   {stdin: `{"version":1,"source":"Users!"}`, wantCode: ExitBadRequest, wantStderr: `source "Users!"`},
		"neg deadline": {stdin: `{"version":1,"source":"users","deadline_ms":-5}`, wantCode: ExitBadRequest, wantStderr: "negative"},
		"too large": {
			stdin:    `{"version":1,"source":"users","cursor":"` + strings.Repeat("c", maxRequestBytes) + `"}`,
			wantCode: ExitBadRequest, wantStderr: "larger than",
		},
		"oversized result": {
			stdin: `{"version":1,"source":"users"}`,
			handler: func(context.Context, Request) (Result, error) {
				return Result{Raw: strings.Repeat("r", MaxResultBytes)}, nil
			},
			wantCode:   ExitWrite,
			wantStderr: "more than the 4194304 the agent accepts",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			called := false
			h := func(ctx context.Context, req Request) (Result, error) {
				called = true
				return tc.handler(ctx, req)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), strings.NewReader(tc.stdin), &stdout, &stderr, h)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) || (tc.wantStderr == "") != (stderr.Len() == 0) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
			if tc.wantCode == ExitBadRequest && called {
				t.Error("handler called for a bad request")
			}
			if tc.wantStdout == nil {
				if stdout.Len() != 0 {
					t.Errorf("stdout %q, want nothing", stdout.String())
				}
				return
			}
			dec := json.NewDecoder(&stdout)
			dec.DisallowUnknownFields()
			var got Result
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not a Result: %v", err)
			}
			if gb, _ := json.Marshal(got); string(gb) != mustJSON(t, *tc.wantStdout) {
				t.Errorf("stdout result %s, want %s", gb, mustJSON(t, *tc.wantStdout))
			}
		})
	}
}

func TestRunPassesRequestAndDeadline(t *testing.T) {
	tests := map[string]struct {
		deadlineMS   int
		wantDeadline time.Duration // 0: none
	}{
		"no deadline":     {deadlineMS: 0},
		"tenth as margin": {deadlineMS: 2000, wantDeadline: 1800 * time.Millisecond},
		"margin capped":   {deadlineMS: 30000, wantDeadline: 29500 * time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stdin := mustJSON(t, Request{Version: Version, Source: "users", DeadlineMS: tc.deadlineMS, Config: map[string]any{"k": "v"}, Cursor: "c1"})
			var got Request
			var left time.Duration
			var hasDeadline bool
			start := time.Now()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), strings.NewReader(stdin), &stdout, &stderr, func(ctx context.Context, req Request) (Result, error) {
				got = req
				var d time.Time
				d, hasDeadline = ctx.Deadline()
				left = d.Sub(start)
				return Result{}, nil
			})
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if got.Source != "users" || got.Cursor != "c1" || got.Config["k"] != "v" || got.DeadlineMS != tc.deadlineMS {
				t.Errorf("handler got %+v", got)
			}
			if hasDeadline != (tc.wantDeadline != 0) {
				t.Fatalf("context has a deadline: %v, want %v", hasDeadline, tc.wantDeadline != 0)
			}
			if hasDeadline && (left > tc.wantDeadline+100*time.Millisecond || left < tc.wantDeadline-time.Second) {
				t.Errorf("context deadline in %v, want about %v", left, tc.wantDeadline)
			}
		})
	}
}

// TestRunAsProcess runs the test binary as a module, as the agent would.
func TestRunAsProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		mode       string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"success": {
			mode: "users", wantCode: ExitOK,
			wantStdout: `{"metrics":[{"name":"users.logged_in","value":4,"unit":"count"}],"cursor":"c+1"}` + "\n",
		},
		"failure": {mode: "fails", wantCode: ExitFailed, wantStderr: "users: cannot open /var/run/utmp: permission denied\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe)
			cmd.Env = append(os.Environ(), helperEnv+"="+tc.mode)
			cmd.Stdin = strings.NewReader(`{"version":1,"source":"users","deadline_ms":3000,"config":{"fixed":4},"cursor":"c"}`)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || stdout.String() != tc.wantStdout || stderr.String() != tc.wantStderr {
				t.Errorf("exit %d stdout %q stderr %q; want %d %q %q", code, stdout.String(), stderr.String(), tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
