package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
