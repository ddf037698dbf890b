package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Prune is PruneAll, returning how many collections it deleted.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	p, err := s.PruneAll(ctx, olderThan)
	return p.Collections, err
}

// PruneAll deletes the events logged before olderThan (by event_time),
// then the collections that started before olderThan with their samples,
// then the notification records that are sent or failed and the alert
// states that are not firing, both last updated (updated_at) before
// olderThan, and returns how many rows of each it deleted (Target is the
// file). A host's latest ok collection is always kept, so latest_stats
// keeps every host; hosts rows are kept too; an event of a deleted
// collection that is not old itself stays, with collection_id NULL;
// pending and sending notifications and firing alerts stay however old.
// It deletes in transactions of at most a few thousand rows, so writers
// wait little for the write lock: a cancelled PruneAll keeps what it
// deleted so far, and returns its counts with the error. The file does
// not shrink; deleted pages are reused.
func (s *Store) PruneAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error) {
	if err := checkSchema(ctx, s.db, len(s.migrations)); err != nil {
		return storage.Pruned{}, fmt.Errorf("prune %s: %w", s.path, err)
	}
	p, err := retained.Prune(ctx, s.pruning(olderThan))
	p.Target = s.path
	return p, err
}

// PreviewAll counts what PruneAll(ctx, olderThan) would delete now, with
// the same conditions, deleting nothing.
func (s *Store) PreviewAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error) {
	if err := checkSchema(ctx, s.db, len(s.migrations)); err != nil {
		return storage.Pruned{}, fmt.Errorf("prune preview %s: %w", s.path, err)
	}
	p, err := retained.Preview(ctx, s.pruning(olderThan))
	p.Target = s.path
	return p, err
}

// pruning is how s prunes what is older than olderThan.
func (s *Store) pruning(olderThan time.Time) retained.Pruning {
	cutoff := formatTime(olderThan)
	return retained.Pruning{
		Target: s.path, Cutoff: cutoff, Chunk: s.pruneChunk, Limit: "?2",
		Events: pruneEvents, Collections: pruneCollections, Notifications: pruneNotifications, Alerts: pruneAlerts,
		Delete: func(ctx context.Context, query string, chunk int) (int64, error) {
			res, err := s.db.ExecContext(ctx, query, cutoff, chunk)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
		Count: func(ctx context.Context, query string) (n int64, err error) {
			err = s.db.QueryRowContext(ctx, query, cutoff).Scan(&n)
			return n, err
		},
	}
}
