//go:build unix

package authlog

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// script writes an executable shell script to dir/name.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookPath(t *testing.T) {
	bin := t.TempDir()
	exe := script(t, bin, "journalctl", "true")
	plain := t.TempDir()
	if err := os.WriteFile(filepath.Join(plain, "journalctl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	asDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(asDir, "journalctl"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path    string
		want    string
		wantErr bool
	}{
		"found":                    {path: bin, want: exe},
		"after other directories":  {path: t.TempDir() + string(filepath.ListSeparator) + bin, want: exe},
		"not executable":           {path: plain, wantErr: true},
		"a directory":              {path: asDir, wantErr: true},
		"not executable, then one": {path: plain + string(filepath.ListSeparator) + asDir + string(filepath.ListSeparator) + bin, want: exe},
		"relative entry skipped":   {path: ".", wantErr: true},
		"empty PATH":               {path: "", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			if name == "relative entry skipped" {
				t.Chdir(bin)
			}
			got, err := lookPath("journalctl")
			if (err != nil) != tt.wantErr {
				t.Fatalf("lookPath() error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("lookPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProcess(t *testing.T) {
	tests := map[string]struct {
		body       string
		args       []string
		wantOut    string
		wantStderr string
		wantErr    string
	}{
		"output and arguments": {body: `echo "$@"; echo warn >&2`, args: []string{"-o", "json"}, wantOut: "-o json\n", wantStderr: "warn\n"},
		"stdin is empty":       {body: `cat; echo done`, wantOut: "done\n"},
		"exit status":          {body: `echo oops >&2; exit 3`, wantStderr: "oops\n", wantErr: "exit status 3"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			exe := script(t, t.TempDir(), "fake", tt.body)
			var stderr strings.Builder
			p, err := startProcess(context.Background(), exe, tt.args, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(p.stdout)
			if err != nil {
				t.Fatal(err)
			}
			err = p.wait()
			if got := errString(err); got != tt.wantErr {
				t.Fatalf("wait() error = %q, want %q", got, tt.wantErr)
			}
			if string(out) != tt.wantOut || stderr.String() != tt.wantStderr {
				t.Fatalf("stdout %q, stderr %q; want %q, %q", out, stderr.String(), tt.wantOut, tt.wantStderr)
			}
		})
	}
}

func TestProcessKilledWithContext(t *testing.T) {
	exe := script(t, t.TempDir(), "fake", "exec sleep 60")
	ctx, cancel := context.WithCancel(context.Background())
	p, err := startProcess(ctx, exe, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	if err := p.wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("wait() error = %v, want killed", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the process outlived its context")
	}
}

func TestStartProcessMissing(t *testing.T) {
	if _, err := startProcess(context.Background(), filepath.Join(t.TempDir(), "none"), nil, io.Discard); err == nil {
		t.Fatal("startProcess() of a missing file succeeded")
	}
}

// errString is err's text, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// journalRead runs journalctl (here a script printing recorded output)
// and reads its entries; a failing journalctl's stderr is in the error.
func TestJournalReadRunsJournalctl(t *testing.T) {
	recorded, err := filepath.Abs(filepath.Join("testdata", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		body       string
		wantEvents bool
		wantCursor string
		wantErr    string
	}{
		"recorded output": {body: `cat '` + recorded + `'`, wantEvents: true, wantCursor: "s=abc;i=5"},
		"failure":         {body: `echo "No journal files were found." >&2; exit 1`, wantCursor: "old", wantErr: "No journal files were found."},
		"not JSON":        {body: `echo nonsense; exec sleep 60`, wantCursor: "old", wantErr: "not JSON"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			exe := script(t, t.TempDir(), "journalctl", tt.body)
			r := journalRead{journalctl: exe, cursor: "old", max: 100, now: time.Unix(1709528800, 0), computer: "db1"}
			events, _, next, err := r.read(context.Background())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("read() error = %v, want %q", err, tt.wantErr)
			}
			if (len(events) > 0) != tt.wantEvents || next != tt.wantCursor {
				t.Fatalf("read() = %d events, cursor %q; want events %v, cursor %q", len(events), next, tt.wantEvents, tt.wantCursor)
			}
		})
	}
}
