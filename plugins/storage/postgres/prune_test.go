package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

func TestPruneInChunks(t *testing.T) {
	storagetest.PruneInChunks(t, func(t *testing.T, chunk int) (storagetest.Store, *sql.DB) {
		s, db := migratedStore(t)
		s.pruneChunk = chunk
		return s, db
	})
}

func TestPruneHonoursCancellation(t *testing.T) {
	s, _ := migratedStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Prune(ctx, testTime); err == nil {
		t.Fatal("Prune with a cancelled context succeeded")
	}
}
