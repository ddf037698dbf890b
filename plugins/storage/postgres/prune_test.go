package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestPruneInChunks deletes more collections than one chunk holds and
// checks that every chunk was deleted and the latest ok ones kept.
func TestPruneInChunks(t *testing.T) {
	tests := map[string]int{"one chunk": 0, "chunks of 2": 2, "chunks of 3": 3}
	for name, chunk := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, db := migratedStore(t)
			s.pruneChunk = chunk
			for r := range 4 {
				b := storagetest.SyntheticBatch(fmt.Sprintf("r%d", r), testTime.Add(time.Duration(r)*time.Hour), 3, 2)
				b.Collections[2].Status = storage.StatusTimeout
				if err := s.WriteBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			// 12 collections; the last round's two ok ones are kept.
			deleted, err := s.Prune(ctx, testTime.Add(24*time.Hour))
			if err != nil || deleted != 10 {
				t.Fatalf("Prune = %d, %v; want 10, nil", deleted, err)
			}
			const left = `SELECT h.ip, c.round_id FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip`
			if got := storagetest.Dump(t, db, left); got != "ip=10.0.0.0 round_id=r3 \nip=10.0.0.1 round_id=r3 \n" {
				t.Errorf("left after Prune:\n%s", got)
			}
			if n := storagetest.Count(t, db, "samples"); n != 4 {
				t.Errorf("samples = %d after Prune; want 4", n)
			}
		})
	}
}

func TestPruneHonoursCancellation(t *testing.T) {
	s, _ := migratedStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Prune(ctx, testTime); err == nil {
		t.Fatal("Prune with a cancelled context succeeded")
	}
}
