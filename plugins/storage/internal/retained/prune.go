package retained

import (
	"context"
	"fmt"
)

// DefaultChunk is how many collections (or events) one prune transaction
// deletes at most, so that pruning a long history never holds locks for
// long.
const DefaultChunk = 5000

// Pruning is how a SQL store deletes what is older than a cutoff.
type Pruning struct {
	// Target names the database in errors; Cutoff names the cutoff.
	Target, Cutoff string
	// Chunk is how many rows one Delete removes at most; zero means
	// DefaultChunk.
	Chunk int
	// Events and Collections are the backend's DELETE statements of at
	// most a chunk of events, and of collections, older than the cutoff.
	Events, Collections string
	// Delete runs query, one of the two, in a transaction of its own and
	// returns how many rows it deleted.
	Delete func(ctx context.Context, query string, chunk int) (int64, error)
}

// Prune deletes the events logged before the cutoff, then the collections
// that started before it, a chunk at a time until a chunk deletes fewer
// than it may, and returns how many collections and events it deleted. A
// cancelled Prune keeps what it deleted so far, and returns its counts
// with the error.
func Prune(ctx context.Context, p Pruning) (collections, events int64, err error) {
	events, err = p.chunks(ctx, p.Events)
	if err != nil {
		return 0, events, fmt.Errorf("prune events logged before %s from %s: %w", p.Cutoff, p.Target, err)
	}
	collections, err = p.chunks(ctx, p.Collections)
	if err != nil {
		return collections, events, fmt.Errorf("prune collections before %s from %s: %w", p.Cutoff, p.Target, err)
	}
	return collections, events, nil
}

func (p Pruning) chunks(ctx context.Context, query string) (int64, error) {
	chunk := p.Chunk
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	var deleted int64
	for {
		n, err := p.Delete(ctx, query, chunk)
		if err != nil {
			return deleted, err
		}
		deleted += n
		if n < int64(chunk) {
			return deleted, nil
		}
	}
}

// Kept is the condition, on a collection c, under which pruning keeps it
// however old it is: it is its host's latest ok collection, the one
// latest_stats shows. Both backends' prune statements read it.
const Kept = `(c.status = 'ok' AND NOT EXISTS (
          SELECT 1 FROM collections n
          WHERE n.host_id = c.host_id AND n.status = 'ok'
            AND (n.started_at > c.started_at OR (n.started_at = c.started_at AND n.id > c.id))))`
