package retained

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// DefaultChunk is how many rows one prune transaction deletes at most, so
// that pruning a long history never holds locks for long.
const DefaultChunk = 5000

// Rows is one kind of row pruning deletes: the rows of Table, aliased c,
// that match Where, whose cutoff placeholder is the backend's first
// ("?1", "$1"). Key lists the columns that name a row (its primary key,
// or rowid). A prune's DELETE and a preview's COUNT are both made from
// Where, so that a preview counts exactly what a prune deletes.
type Rows struct {
	Table, Key, Where string
}

// Delete is the statement that deletes at most limit (a placeholder,
// "?2", "$2") of the rows.
func (r Rows) Delete(limit string) string {
	return `DELETE FROM ` + r.Table + ` WHERE (` + r.Key + `) IN (
    SELECT ` + r.Key + ` FROM ` + r.Table + ` c
    WHERE ` + r.Where + `
    LIMIT ` + limit + `
)`
}

// Count is the statement that counts the rows.
func (r Rows) Count() string {
	return `SELECT count(*) FROM ` + r.Table + ` c WHERE ` + r.Where
}

// Pruning is how a SQL store deletes, or counts, what is older than a
// cutoff.
type Pruning struct {
	// Target names the database in errors; Cutoff names the cutoff.
	Target, Cutoff string
	// Chunk is how many rows one Delete removes at most; zero means
	// DefaultChunk.
	Chunk int
	// Limit is the backend's placeholder of the chunk size ("?2", "$2").
	Limit string
	// Events, Collections, Notifications and Alerts are the rows to
	// prune of each kind.
	Events, Collections, Notifications, Alerts Rows
	// Delete runs query, a DELETE of Rows.Delete, in a transaction of its
	// own with the cutoff and chunk, and returns how many rows it deleted.
	Delete func(ctx context.Context, query string, chunk int) (int64, error)
	// Count runs query, a Rows.Count, with the cutoff and returns the
	// count.
	Count func(ctx context.Context, query string) (int64, error)
}

// kind is one kind of rows Prune deletes, where its count goes, and its
// name in errors.
type kind struct {
	rows  Rows
	count *int64
	what  string
}

// kinds are p's rows in the order Prune deletes them, counted into n.
func (p Pruning) kinds(n *storage.Pruned) []kind {
	return []kind{
		{p.Events, &n.Events, "events logged"},
		{p.Collections, &n.Collections, "collections started"},
		{p.Notifications, &n.Notifications, "sent or failed notification records last updated"},
		{p.Alerts, &n.Alerts, "resolved alert states last updated"},
	}
}

// Prune deletes the events logged before the cutoff, then the collections
// that started before it, then the done notification records and the
// alert states not firing last updated before it, a chunk at a time until
// a chunk deletes fewer than it may, and returns how many rows of each
// kind it deleted (Target unset). A cancelled Prune keeps what it deleted
// so far, and returns its counts with the error.
func Prune(ctx context.Context, p Pruning) (storage.Pruned, error) {
	var n storage.Pruned
	for _, k := range p.kinds(&n) {
		deleted, err := p.chunks(ctx, k.rows.Delete(p.Limit))
		*k.count = deleted
		if err != nil {
			return n, fmt.Errorf("prune %s before %s from %s: %w", k.what, p.Cutoff, p.Target, err)
		}
	}
	return n, nil
}

// Preview counts what Prune would delete now, deleting nothing.
func Preview(ctx context.Context, p Pruning) (storage.Pruned, error) {
	var n storage.Pruned
	for _, k := range p.kinds(&n) {
		count, err := p.Count(ctx, k.rows.Count())
		if err != nil {
			return storage.Pruned{}, fmt.Errorf("count %s before %s in %s: %w", k.what, p.Cutoff, p.Target, err)
		}
		*k.count = count
	}
	return n, nil
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
