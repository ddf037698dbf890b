// Package testdir gives tests a temporary directory that is removed
// after the test, also under Wine: there os.RemoveAll (and so the cleanup
// of testing.T.TempDir) fails with "Invalid function", because Go's
// Windows RemoveAll deletes with FileDispositionInformationEx, which Wine
// 8.0 does not implement. os.Remove (DeleteFile, RemoveDirectory) works.
package testdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// New creates a fresh directory for t and removes it when t ends.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cscs-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Remove(dir); err != nil {
			t.Errorf("remove test directory: %v", err)
		}
	})
	return dir
}

// Remove removes dir and what it holds: with os.RemoveAll, else entry by
// entry with os.Remove, deepest first.
func Remove(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	var paths []string
	walkErr := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	if walkErr != nil {
		return errors.Join(err, walkErr)
	}
	// WalkDir lists a directory before its entries: remove in reverse.
	for _, p := range slices.Backward(paths) {
		if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return errors.Join(err, rerr)
		}
	}
	return nil
}
