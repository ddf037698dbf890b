package main

import (
	"path/filepath"
	"slices"
	"testing"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestLaunchedPlugin builds this main package and starts it the way the
// CSCS core does; a second process on the same file shows that the index
// is rebuilt from the file.
func TestLaunchedPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the plugin binary; skipped with -short")
	}
	t.Parallel()
	binary := sdktest.Build(t, ".")
	launch := func(t *testing.T) storage.Storage {
		t.Helper()
		plugin := sdktest.Launch(t, binary)
		if kinds := plugin.Kinds(); !slices.Equal(kinds, []string{sdkplugin.KindStorage}) {
			t.Fatalf("the binary serves %v, want only a storage", kinds)
		}
		return plugin.Storage()
	}

	t.Run("conformance", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "rounds.jsonl")
		sdktest.StorageConformance(t, launch(t), configFor(t, path))
		if n := len(readRecords(t, path)); n != 2 {
			t.Errorf("%d lines after writing a two-host batch twice, want 2", n)
		}
	})

	t.Run("a new process does not duplicate", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "rounds.jsonl")
		round1 := batch(t, "r-1", "192.0.2.10:22", "192.0.2.11:2222")
		round2 := batch(t, "r-2", "192.0.2.10:22")
		for i, writes := range [][]*storage.Batch{{round1, round1}, {round1, round2}} {
			s := launch(t)
			if err := s.Open(t.Context(), configFor(t, path)); err != nil {
				t.Fatalf("process %d: Open: %v", i+1, err)
			}
			for _, b := range writes {
				if err := s.WriteBatch(t.Context(), b); err != nil {
					t.Fatalf("process %d: WriteBatch %s: %v", i+1, b.RoundID, err)
				}
			}
			if err := s.Close(t.Context()); err != nil {
				t.Fatalf("process %d: Close: %v", i+1, err)
			}
		}
		want := []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222", "r-2 192.0.2.10:22"}
		if got := keys(readRecords(t, path)); !slices.Equal(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
	})
}
