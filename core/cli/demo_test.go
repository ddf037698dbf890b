package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/internal/syncbuf"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// TestDemo runs `cscs demo` as `make demo` does: an in-process fleet, a
// generated config, SQLite and the local mail sink.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runMain(context.Background(), "test", "demo", "--hosts", "3", "--dir", dir, "--agent-dir", testagent.Dir(t), "--cpu-sample", "100ms")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"3 hosts in", "3 ok", "stored round", "went to the local mail sink"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	mails, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	if len(mails) < 3 {
		t.Errorf("%d mails in the sink, want at least the 3 event-log mails", len(mails))
	}
	if _, err := os.Stat(filepath.Join(dir, "cscs.db")); err != nil {
		t.Errorf("no database: %v", err)
	}
}

// TestDemoKeep: with --keep the demo leaves its fleet and mail sink up
// after its round and prints a `cscs run` command line that reaches them;
// that exact command runs a round; Ctrl-C ends the demo.
func TestDemoKeep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	dir, agents := t.TempDir(), testagent.Dir(t)
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--keep", "--hosts", "2", "--dir", dir, "--agent-dir", agents, "--cpu-sample", "100ms"},
			"test", strings.NewReader(""), &out, io.Discard)
	}()
	var line string
	deadline := time.Now().Add(2 * time.Minute)
	for line == "" && time.Now().Before(deadline) {
		for l := range strings.Lines(out.String()) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "cscs run "); ok {
				line = rest
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if line == "" {
		t.Fatalf("the demo printed no command line:\n%s", out.String())
	}
	args := append([]string{"run"}, strings.Fields(line)...)
	if code, stdout, stderr := runMain(context.Background(), "test", append(args, "--cpu-sample", "100ms")...); code != ExitOK || !strings.Contains(stdout, "2 ok") {
		t.Errorf("the printed command (%s): exit %d\n%s%s", line, code, stdout, stderr)
	}
	select {
	case code := <-done:
		t.Fatalf("the demo ended (exit %d) before Ctrl-C", code)
	default:
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("the demo exited %d after Ctrl-C, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not end after Ctrl-C")
	}
}
