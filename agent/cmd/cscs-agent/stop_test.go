package main

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cscs-dev/cscs/agent/internal/testdir"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/all"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// hangs is a built-in module that returns only when its context ends.
type hangs struct{}

func (hangs) Name() string { return "hangs" }
func (hangs) Collect(ctx context.Context, _ module.Config) ([]protocol.Metric, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestRunStops: the agent stops, without a report and with ExitStopped,
// when its deadline passes or the stdin the core holds closes; a held
// stdin that stays open, or the end of a stdin the core does not hold,
// does not stop it.
func TestRunStops(t *testing.T) {
	tests := map[string]struct {
		deadlineMillis int
		holdsStdin     bool
		// closeAfter closes stdin that long after the request; negative
		// keeps it open until run returns.
		closeAfter time.Duration
		// hang runs a module that never ends by itself; else uptime.
		hang bool
		// external adds a shell module that sleeps 30 s.
		external bool
		wantStop string // "" wants a report
	}{
		"deadline passes":                {deadlineMillis: 300, closeAfter: 0, hang: true, wantStop: "deadline of 300ms"},
		"deadline passes, external":      {deadlineMillis: 300, closeAfter: 0, external: true, wantStop: "deadline of 300ms"},
		"held stdin closes":              {holdsStdin: true, closeAfter: 300 * time.Millisecond, hang: true, wantStop: "its session ended"},
		"held stdin closes, external":    {holdsStdin: true, closeAfter: 300 * time.Millisecond, external: true, wantStop: "its session ended"},
		"held stdin closes at once":      {holdsStdin: true, closeAfter: 0, hang: true, wantStop: "its session ended"},
		"held stdin stays open":          {holdsStdin: true, closeAfter: -1},
		"deadline not reached":           {deadlineMillis: 60000, closeAfter: 0},
		"stdin not held ends at request": {closeAfter: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.external && runtime.GOOS == "windows" {
				t.Skip("the external module is a shell script")
			}
			id, req := newRequest(t, "stop-nonce")
			req.DeadlineMillis, req.HoldsStdin = tc.deadlineMillis, tc.holdsStdin
			req.ModuleTimeoutMillis = 60000
			s := setup{builtin: append(all.Builtin(), hangs{}), dir: testdir.New(t)}
			req.Modules = []string{"uptime"}
			if tc.hang {
				req.Modules = []string{"uptime", "hangs"}
			}
			if tc.external {
				req.External = []protocol.ExternalModule{shipped(t, s.dir, "sleeper", "sleeps.sh")}
			}
			stdin, feed := io.Pipe()
			go func() {
				_, _ = feed.Write([]byte(requestJSON(t, req)))
				switch {
				case tc.closeAfter == 0:
					_ = feed.Close()
				case tc.closeAfter > 0:
					time.Sleep(tc.closeAfter)
					_ = feed.Close()
				}
			}()
			defer feed.Close()

			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := run(context.Background(), nil, stdin, &stdout, &stderr, s)
			elapsed := time.Since(start)
			if tc.wantStop == "" {
				if err != nil {
					t.Fatalf("run: %v, want a report", err)
				}
				if rep := decryptReport(t, id, stdout.Bytes()); len(rep.Modules) != 1 || rep.Modules[0].Error != "" {
					t.Errorf("report modules %+v, want uptime", rep.Modules)
				}
				return
			}
			if code := exitCode(err); code != protocol.ExitStopped || !strings.Contains(err.Error(), tc.wantStop) {
				t.Fatalf("run: %v (exit %d), want exit %d saying %q", err, code, protocol.ExitStopped, tc.wantStop)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout holds %d bytes, want no report", stdout.Len())
			}
			// The module (or the external one's 30 s sleep) did not hold
			// the agent up; a loaded machine gets room.
			if elapsed > 10*time.Second {
				t.Errorf("run returned after %v, want soon after it was told to stop", elapsed)
			}
		})
	}
}

// TestReadRequestNeedsNoEndOfFile: a request whose stdin the core holds
// open is read without waiting for end of file, and what follows it is
// left for the watch on the session.
func TestReadRequestNeedsNoEndOfFile(t *testing.T) {
	for name, prefix := range map[string]string{"plain": "", "after a byte-order mark": "\xEF\xBB\xBF"} {
		t.Run(name, func(t *testing.T) { testReadHeldRequest(t, prefix) })
	}
}

func testReadHeldRequest(t *testing.T, prefix string) {
	_, req := newRequest(t, "held")
	req.HoldsStdin = true
	stdin, feed := io.Pipe()
	defer feed.Close()
	go func() { _, _ = feed.Write([]byte(prefix + requestJSON(t, req) + "\n")) }()
	type result struct {
		req  request
		rest io.Reader
		err  error
	}
	done := make(chan result, 1)
	go func() {
		r, rest, err := readRequest(stdin)
		done <- result{r, rest, err}
	}()
	select {
	case got := <-done:
		if got.err != nil || got.req.Nonce != "held" || !got.req.HoldsStdin {
			t.Fatalf("readRequest: %+v, %v", got.req.Request, got.err)
		}
		go func() { _, _ = feed.Write([]byte("later")); feed.Close() }()
		if rest, err := io.ReadAll(got.rest); err != nil || string(rest) != "\nlater" {
			t.Errorf("rest %q, %v; want what followed the request", rest, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readRequest still waits for end of file")
	}
}

// TestReadRequestTrailingData: without a held stdin, the request must be
// all of stdin but white space.
func TestReadRequestTrailingData(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	_, req := newRequest(t, "n")
	tests := map[string]struct {
		stdin   string
		wantErr string
	}{
		"newline after":  {stdin: requestJSON(t, req) + "\n\n"},
		"second request": {stdin: requestJSON(t, req) + requestJSON(t, req), wantErr: "followed by more than white space"},
		"ends early":     {stdin: requestJSON(t, req)[:20], wantErr: "not valid JSON"},
		// Windows tools and PowerShell pipelines may add a UTF-8 BOM.
		"byte-order mark":             {stdin: bom + requestJSON(t, req) + "\n"},
		"byte-order mark only":        {stdin: bom, wantErr: "no request on stdin"},
		"two byte-order marks":        {stdin: bom + bom + requestJSON(t, req), wantErr: "not valid JSON"},
		"part of a byte-order mark":   {stdin: bom[:2] + requestJSON(t, req), wantErr: "not valid JSON"},
		"byte-order mark after space": {stdin: " " + bom + requestJSON(t, req), wantErr: "not valid JSON"},
		"empty":                       {stdin: "", wantErr: "no request on stdin"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// One byte at a time too: the mark may come in pieces.
			_, _, err := readRequest(iotest.OneByteReader(strings.NewReader(tc.stdin)))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("readRequest: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("readRequest: %v, want an error saying %q", err, tc.wantErr)
			case err != nil && exitCode(err) != protocol.ExitBadRequest:
				t.Errorf("exit code %d, want %d", exitCode(err), protocol.ExitBadRequest)
			}
		})
	}
}
