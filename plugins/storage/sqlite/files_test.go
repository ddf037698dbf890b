package sqlite

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestNewDatabaseIsPrivate: a database the store creates is 0600, and so
// are the -wal and -shm files SQLite makes beside it, whatever the umask
// would have given; an existing database keeps the mode its operator chose.
func TestNewDatabaseIsPrivate(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	s := openStore(t, fresh)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{fresh, fresh + "-wal", fresh + "-shm"} {
		if got := mode(t, f); got != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(f), got)
		}
	}

	shared := filepath.Join(dir, "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o640); err != nil { // past the umask
		t.Fatal(err)
	}
	openStore(t, shared)
	if got := mode(t, shared); got != 0o640 {
		t.Errorf("an existing database's mode became %o; want the operator's 640 kept", got)
	}
}

// TestReadOnlyLeftovers: after the database was read-only once, SQLite's
// -wal and -shm files keep that mode when the operator makes the database
// writable again; opening the store gives them the database's mode, so
// the next round can write.
func TestReadOnlyLeftovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cscs.db")
	s := openStore(t, path)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What a run against the read-only file left, then the operator's fix.
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.WriteFile(f, nil, 0o444); err != nil && !os.IsPermission(err) {
			t.Fatal(err)
		}
		if err := os.Chmod(f, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if got := mode(t, f); got != 0o644 {
			t.Errorf("%s: mode %o after open, want the database's 644", filepath.Base(f), got)
		}
	}
	if err := s.WriteBatch(context.Background(), loadBatch(t, "mixed_round.json")); err != nil {
		t.Errorf("write after the fix: %v", err)
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
