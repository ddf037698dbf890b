package sqlite

import (
	"context"
	"fmt"
	"time"
)

// defaultPruneChunk is how many collections one prune transaction deletes
// at most, so that pruning a long history never holds the write lock for
// long.
const defaultPruneChunk = 5000

// pruneSQL deletes up to ?2 collections that started before ?1, with their
// samples (ON DELETE CASCADE), except each host's latest ok collection:
// the one latest_stats shows.
const pruneSQL = `
DELETE FROM collections
WHERE id IN (
    SELECT c.id
    FROM collections c
    WHERE c.started_at < ?1
      AND NOT (c.status = 'ok' AND NOT EXISTS (
          SELECT 1 FROM collections n
          WHERE n.host_id = c.host_id AND n.status = 'ok'
            AND (n.started_at > c.started_at OR (n.started_at = c.started_at AND n.id > c.id))))
    LIMIT ?2
)`

// Prune deletes the collections that started before olderThan, and their
// samples, and returns how many collections it deleted. A host's latest ok
// collection is always kept, so latest_stats keeps every host; hosts rows
// are kept too. It deletes in transactions of at most a few thousand
// collections, so writers wait little: a cancelled Prune keeps what it
// deleted so far. The file does not shrink; deleted pages are reused.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	if err := checkSchema(ctx, s.db, len(s.migrations)); err != nil {
		return 0, fmt.Errorf("prune %s: %w", s.path, err)
	}
	cutoff := formatTime(olderThan)
	chunk := s.pruneChunk
	if chunk <= 0 {
		chunk = defaultPruneChunk
	}
	var deleted int64
	for {
		res, err := s.db.ExecContext(ctx, pruneSQL, cutoff, chunk)
		if err != nil {
			return deleted, fmt.Errorf("prune collections before %s from %s: %w", cutoff, s.path, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return deleted, fmt.Errorf("prune collections from %s: %w", s.path, err)
		}
		deleted += n
		if n < int64(chunk) {
			return deleted, nil
		}
	}
}
