package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
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
// database). A host's latest ok collection is always kept, so
// latest_stats keeps every host; hosts rows are kept too; an event of a
// deleted collection that is not old itself stays, with collection_id
// NULL; pending and sending notifications and firing alerts stay however
// old. It deletes in transactions of at most a few thousand rows, so
// writers wait little; a cancelled PruneAll keeps what it deleted so far,
// and returns its counts with the error.
func (s *Store) PruneAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error) {
	if err := checkSchema(ctx, s.pool, len(s.migrations)); err != nil {
		return storage.Pruned{}, fmt.Errorf("prune %s: %w", s.name, err)
	}
	p, err := retained.Prune(ctx, s.pruning(olderThan))
	p.Target = s.Database()
	return p, err
}

// PreviewAll counts what PruneAll(ctx, olderThan) would delete now, with
// the same conditions, deleting nothing.
func (s *Store) PreviewAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error) {
	if err := checkSchema(ctx, s.pool, len(s.migrations)); err != nil {
		return storage.Pruned{}, fmt.Errorf("prune preview %s: %w", s.name, err)
	}
	p, err := retained.Preview(ctx, s.pruning(olderThan))
	p.Target = s.Database()
	return p, err
}

// pruning is how s prunes what is older than olderThan.
func (s *Store) pruning(olderThan time.Time) retained.Pruning {
	cutoff := sqlbatch.Millis(olderThan)
	return retained.Pruning{
		Target: s.name, Cutoff: cutoff.Format(time.RFC3339), Chunk: s.pruneChunk, Limit: "$2",
		Events: pruneEvents, Collections: pruneCollections, Notifications: pruneNotifications, Alerts: pruneAlerts,
		Delete: func(ctx context.Context, query string, chunk int) (n int64, err error) {
			err = s.inTx(ctx, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, query, cutoff, chunk)
				n = tag.RowsAffected()
				return err
			})
			return n, err
		},
		Count: func(ctx context.Context, query string) (n int64, err error) {
			err = s.pool.QueryRow(ctx, query, cutoff).Scan(&n)
			return n, err
		},
	}
}
