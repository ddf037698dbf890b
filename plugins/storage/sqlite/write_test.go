package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// TestWriteBatchRollsBackOnDatabaseError bypasses validation so that the
// database itself refuses the last collection, half way through the batch.
func TestWriteBatchRollsBackOnDatabaseError(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	b := loadBatch(t, "mixed_round.json")
	b.Collections[2].Status = "exploded"

	r, err := sqlbatch.New(b, formatTime)
	if err != nil {
		t.Fatal(err)
	}
	err = writeRows(ctx, s.db, len(s.migrations), r)
	if err == nil || !strings.Contains(err.Error(), "[fd00::3]:22") || !strings.Contains(err.Error(), "exploded") {
		t.Fatalf("writeRows error %v; want one naming host [fd00::3]:22 and status exploded", err)
	}
	for _, table := range []string{"hosts", "collections", "samples"} {
		if n := storagetest.Count(t, s.db, table); n != 0 {
			t.Errorf("failed batch left %d rows in %s", n, table)
		}
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		path    string
		wantErr string
	}{
		"empty path":        {"", "path is empty"},
		"missing directory": {filepath.Join(dir, "no", "such", "dir", "x.db"), "check that the directory exists"},
		"odd characters":    {filepath.Join(dir, "we?ird#na%me.db"), ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New error %v; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(tc.path); err != nil {
				t.Errorf("database not at %q: %v", tc.path, err)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "close.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if err := s.Migrate(context.Background()); err == nil {
		t.Error("Migrate after Close succeeded")
	}
}
