package state

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// snapshot is a small table read whole by the first lookup on a DB and
// kept current by the DB's own writes. A round asks the same table for
// every host (platforms, event cursors): one query per round instead of
// one per host. A DB lives for one round; writes by other processes after
// the first lookup are not seen, which the callers tolerate (see Platform
// and Cursor).
type snapshot[K comparable, V any] struct {
	once sync.Once
	mu   sync.Mutex
	rows map[K]V
	err  error
}

// load reads the table once; later calls return what the first one read.
func (s *snapshot[K, V]) load(read func() (map[K]V, error)) error {
	s.once.Do(func() {
		rows, err := read()
		s.mu.Lock()
		s.rows, s.err = rows, err
		s.mu.Unlock()
	})
	return s.err
}

// get returns the row of k.
func (s *snapshot[K, V]) get(read func() (map[K]V, error), k K) (V, bool, error) {
	if err := s.load(read); err != nil {
		var zero V
		return zero, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.rows[k]
	return v, ok, nil
}

// put records a row this DB just wrote.
func (s *snapshot[K, V]) put(read func() (map[K]V, error), k K, v V) {
	if s.load(read) != nil {
		return // lookups fail anyway
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[k] = v
}

// readTable returns a reader of a whole table for a snapshot: query
// selects every row and scan reads one row's key and value; what names the
// table in errors. The query does not stop when ctx is cancelled: the
// snapshot keeps what the first lookup read, failure included, for every
// later lookup.
func readTable[K comparable, V any](ctx context.Context, db *conn, what, query string, scan func(*sql.Rows) (K, V, error)) func() (map[K]V, error) {
	return func() (map[K]V, error) {
		out := make(map[K]V)
		err := eachRow(context.WithoutCancel(ctx), db, func(rows *sql.Rows) error {
			k, v, err := scan(rows)
			if err != nil {
				return err
			}
			out[k] = v
			return nil
		}, query)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		return out, nil
	}
}
