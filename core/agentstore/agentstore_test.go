package agentstore

import (
	"crypto/sha256"
	"encoding/hex"
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
