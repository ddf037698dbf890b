package agentstore

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	dir := t.TempDir()
	data := []byte("#!/bin/sh\necho agent\n")
	if err := os.WriteFile(filepath.Join(dir, FileName("linux", "amd64")), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName("windows", "arm64")), data, 0o755); err != nil {
		t.Fatal(err)
	}
	s := New(dir)
	a, err := s.Get("linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if a.SHA256 != hex.EncodeToString(sum[:]) || string(a.Data) != string(data) {
		t.Fatalf("got sha %s", a.SHA256)
	}
	again, _ := s.Get("linux", "amd64")
	if again != a {
		t.Fatal("second Get did not return the cached agent")
	}
	_, err = s.Get("darwin", "arm64")
	if err == nil {
		t.Fatal("want error for a missing platform")
	}
	for _, want := range []string{"darwin/arm64", "linux/amd64, windows/arm64", "make agents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFileName(t *testing.T) {
	cases := map[string]struct{ os, arch, want string }{
		"linux":   {"linux", "arm64", "cscs-agent-linux-arm64"},
		"windows": {"windows", "amd64", "cscs-agent-windows-amd64.exe"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := FileName(c.os, c.arch); got != c.want {
				t.Fatalf("got %q want %q", got, c.want)
			}
		})
	}
}

func TestGzipRoundTrips(t *testing.T) {
	dir := t.TempDir()
	data := []byte(strings.Repeat("#!/bin/sh\necho agent\n", 1000))
	if err := os.WriteFile(filepath.Join(dir, FileName("linux", "amd64")), data, 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := New(dir).Get("linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	gz, err := a.Gzip()
	if err != nil {
		t.Fatal(err)
	}
	if len(gz) >= len(data)/2 {
		t.Errorf("gzip of %d repetitive bytes is %d bytes", len(data), len(gz))
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("gunzip: %d bytes, %v; want the agent back", len(back), err)
	}
	if again, _ := a.Gzip(); &again[0] != &gz[0] {
		t.Error("second Gzip compressed again instead of keeping the first")
	}
}

// TestDefaultDir: $CSCS_AGENT_DIR first, then agents/ beside the
// executable, then the installed layout (/usr/bin/cscs finds
// /usr/lib/cscs/agents); with none, agents/ beside it.
func TestDefaultDir(t *testing.T) {
	root := t.TempDir()
	mkdir := func(parts ...string) string {
		t.Helper()
		d := filepath.Join(append([]string{root}, parts...)...)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	installed := mkdir("usr", "lib", "cscs", "agents")
	mkdir("usr", "bin")
	archive := mkdir("cscs-1.0-linux-amd64", "agents")
	mkdir("lone")
	tests := []struct {
		name, env, exe, want string
	}{
		{"environment wins", "/elsewhere", filepath.Join(root, "usr", "bin", "cscs"), "/elsewhere"},
		{"package layout", "", filepath.Join(root, "usr", "bin", "cscs"), installed},
		{"archive: beside the binary", "", filepath.Join(root, "cscs-1.0-linux-amd64", "cscs"), archive},
		{"none: beside the binary", "", filepath.Join(root, "lone", "cscs"), filepath.Join(root, "lone", "agents")},
		{"no executable", "", "", "agents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultDir(tc.env, tc.exe); got != tc.want {
				t.Errorf("defaultDir(%q, %q) = %q, want %q", tc.env, tc.exe, got, tc.want)
			}
		})
	}
	// Beside the binary comes before the installed layout.
	mkdir("usr", "bin", "agents")
	if got := defaultDir("", filepath.Join(root, "usr", "bin", "cscs")); got != filepath.Join(root, "usr", "bin", "agents") {
		t.Errorf("with usr/bin/agents too: %q", got)
	}
}

// TestGetNoDirectory: a core without agents (`go install`ed) says where
// to get them and how to build them.
func TestGetNoDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agents")
	_, err := New(dir).Get("linux", "amd64")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"linux/amd64", dir + " does not exist", "make agents", "release archive",
		"/usr/lib/cscs/agents", "--agent-dir", EnvDir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
