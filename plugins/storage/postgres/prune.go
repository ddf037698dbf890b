package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPruneChunk is how many collections (or events) one prune
// transaction deletes at most, so that pruning a long history never holds locks for long.
const defaultPruneChunk = 5000

// pruneSQL deletes up to $2 collections that started before $1, with their
// samples (ON DELETE CASCADE), except each host's latest ok collection:
// the one latest_stats shows.
const pruneSQL = `
DELETE FROM collections
WHERE id IN (
    SELECT c.id
    FROM collections c
    WHERE c.started_at < $1
      AND NOT (c.status = 'ok' AND NOT EXISTS (
          SELECT 1 FROM collections n
          WHERE n.host_id = c.host_id AND n.status = 'ok'
            AND (n.started_at > c.started_at OR (n.started_at = c.started_at AND n.id > c.id))))
    LIMIT $2
)`

// pruneEventsSQL deletes up to $2 events logged before $1.
const pruneEventsSQL = `
DELETE FROM events
WHERE (host_id, channel, record_id, event_time) IN (
    SELECT host_id, channel, record_id, event_time FROM events WHERE event_time < $1 LIMIT $2
)`

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
// most a few thousand rows, so writers wait little; a cancelled PruneAll
// keeps what it deleted so far, and returns its counts with the error.
func (s *Store) PruneAll(ctx context.Context, olderThan time.Time) (collections, events int64, err error) {
	if err := checkSchema(ctx, s.pool, len(s.migrations)); err != nil {
		return 0, 0, fmt.Errorf("prune %s: %w", s.name, err)
	}
	cutoff := dbTime(olderThan)
	events, err = s.pruneChunks(ctx, pruneEventsSQL, cutoff)
	if err != nil {
		return 0, events, fmt.Errorf("prune events logged before %s from %s: %w", cutoff.Format(time.RFC3339), s.name, err)
	}
	collections, err = s.pruneChunks(ctx, pruneSQL, cutoff)
	if err != nil {
		return collections, events, fmt.Errorf("prune collections before %s from %s: %w", cutoff.Format(time.RFC3339), s.name, err)
	}
	return collections, events, nil
}

// pruneChunks runs query, a DELETE of at most $2 rows older than $1, one
// transaction at a time until it deletes fewer than a chunk, and returns
// how many rows it deleted.
func (s *Store) pruneChunks(ctx context.Context, query string, cutoff time.Time) (int64, error) {
	chunk := s.pruneChunk
	if chunk <= 0 {
		chunk = defaultPruneChunk
	}
	var deleted int64
	for {
		var n int64
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, query, cutoff, chunk)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return deleted, err
		}
		deleted += n
		if n < int64(chunk) {
			return deleted, nil
		}
	}
}
