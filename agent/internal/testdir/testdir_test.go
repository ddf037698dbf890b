package testdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemove(t *testing.T) {
	tests := map[string][]string{
		"empty":  nil,
		"files":  {"a", "b"},
		"nested": {"a", "d/b", "d/e/c"},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "cscs-testdir-")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				p := filepath.Join(dir, filepath.FromSlash(f))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := Remove(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("%s still exists (stat: %v)", dir, err)
			}
		})
	}
}
