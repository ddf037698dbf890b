package sqlite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// openStore opens a Store on a fresh file in t.TempDir and closes it when
// the test ends. It does not migrate.
func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := New(path)
	if err != nil {
		t.Fatalf("New(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// migratedStore is openStore plus Migrate.
func migratedStore(t testing.TB) *Store {
	t.Helper()
	s := openStore(t, filepath.Join(t.TempDir(), "cscs.db"))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// loadBatch reads a storage.Batch fixture from testdata.
func loadBatch(t testing.TB, name string) *storage.Batch {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var b storage.Batch
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return &b
}
