package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPruneChunk is how many collections one prune transaction deletes
// at most, so that pruning a long history never holds locks for long.
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

// Prune deletes the collections that started before olderThan, and their
// samples, and returns how many collections it deleted. A host's latest ok
// collection is always kept, so latest_stats keeps every host; hosts rows
// are kept too. It deletes in transactions of at most a few thousand
// collections, so writers wait little; a cancelled Prune keeps what it
// deleted so far.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	if err := checkSchema(ctx, s.pool, len(s.migrations)); err != nil {
		return 0, fmt.Errorf("prune %s: %w", s.name, err)
	}
	cutoff := dbTime(olderThan)
	chunk := s.pruneChunk
	if chunk <= 0 {
		chunk = defaultPruneChunk
	}
	var deleted int64
	for {
		var n int64
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, pruneSQL, cutoff, chunk)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("prune collections before %s from %s: %w", cutoff.Format(time.RFC3339), s.name, err)
		}
		deleted += n
		if n < int64(chunk) {
			return deleted, nil
		}
	}
}
