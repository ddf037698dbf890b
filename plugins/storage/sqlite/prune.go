package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
)

// Prune is PruneAll, returning how many collections it deleted.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	collections, _, err := s.PruneAll(ctx, olderThan)
	return collections, err
}

// PruneAll deletes the events logged before olderThan (by event_time),
// then the collections that started before olderThan with their samples,
// and returns how many collections and events it deleted. A host's latest
// ok collection is always kept, so latest_stats keeps every host; hosts
// rows are kept too; an event of a deleted collection that is not old
// itself stays, with collection_id NULL. It deletes in transactions of at
// most a few thousand rows, so writers wait little for the write lock: a
// cancelled PruneAll keeps what it deleted so far, and returns its counts
// with the error. The file does not shrink; deleted pages are reused.
func (s *Store) PruneAll(ctx context.Context, olderThan time.Time) (collections, events int64, err error) {
	if err := checkSchema(ctx, s.db, len(s.migrations)); err != nil {
		return 0, 0, fmt.Errorf("prune %s: %w", s.path, err)
	}
	cutoff := formatTime(olderThan)
	return retained.Prune(ctx, retained.Pruning{
		Target: s.path, Cutoff: cutoff, Chunk: s.pruneChunk,
		Events: pruneEventsSQL, Collections: pruneSQL,
		Delete: func(ctx context.Context, query string, chunk int) (int64, error) {
			res, err := s.db.ExecContext(ctx, query, cutoff, chunk)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
	})
}
