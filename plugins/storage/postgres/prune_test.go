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
				// Three old events per host and round, and one per host
				// logged after the cutoff.
				for i := range b.Collections {
					for k := range 4 {
						at := b.StartedAt
						if k == 3 {
							at = testTime.Add(48 * time.Hour)
						}
						b.Collections[i].Events = append(b.Collections[i].Events, storage.Event{
							Channel: "Security", RecordID: uint64(r*10 + k), Time: at, EventID: 4625,
						})
					}
				}
				if err := s.WriteBatch(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			// 12 collections; the last round's two ok ones are kept. 48
			// events; the 12 logged after the cutoff are kept.
			deleted, events, err := s.PruneAll(ctx, testTime.Add(24*time.Hour))
			if err != nil || deleted != 10 || events != 36 {
				t.Fatalf("PruneAll = %d collections, %d events, %v; want 10, 36, nil", deleted, events, err)
			}
			const left = `SELECT h.ip, c.round_id FROM collections c JOIN hosts h ON h.id = c.host_id ORDER BY h.ip`
			if got := storagetest.Dump(t, db, left); got != "ip=10.0.0.0 round_id=r3 \nip=10.0.0.1 round_id=r3 \n" {
				t.Errorf("left after Prune:\n%s", got)
			}
			if n := storagetest.Count(t, db, "samples"); n != 4 {
				t.Errorf("samples = %d after Prune; want 4", n)
			}
			if n := storagetest.Count(t, db, "events"); n != 12 {
				t.Errorf("events = %d after Prune; want 12", n)
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
