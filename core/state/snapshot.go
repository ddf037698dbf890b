package state

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// table is how a snapshot reads a table of per-host rows: query selects
// every row (a read of some hosts adds a WHERE), scan reads one row's key
// and value, host is the host a key belongs to; what names the table in
// errors.
type table[K comparable, V any] struct {
	what  string
	query string
	scan  func(*sql.Rows) (K, V, error)
	host  func(K) HostKey
}

// hostOfKey is the host of a table keyed by host (table.host).
func hostOfKey(k HostKey) HostKey { return k }

// snapshot keeps the rows of a table a round looks up for each of its
// hosts (platforms, event cursors, counters), kept current by the DB's own
// writes, so that a round reads the table once instead of once per host.
// The rows of the hosts given to prefetch are read for those hosts only;
// a lookup of another host reads the whole table, at the first such
// lookup, and answers every later one from it. Not a query per host: a
// round looks up only its own hosts, so the whole table is read when its
// prefetch failed (or it made none), and one query then costs less than
// one per host of a round of thousands. A DB lives for one round; writes
// by other processes after a read are not seen, which the callers
// tolerate (see Platform, Cursor and Counters).
type snapshot[K comparable, V any] struct {
	// kept are the rows of the hosts given to prefetch.
	kept prefetched[K, V]

	// The whole table, read once by the first lookup of a host not
	// prefetched.
	once    sync.Once
	mu      sync.Mutex
	started bool // the read of the whole table has started
	rows    map[K]V
	err     error
}

// prefetch reads the rows of hosts (checked, without repeats), one query
// for each hostsPerStatement of them, in place of what was kept for them.
// On error none of them is kept that was not before.
func (s *snapshot[K, V]) prefetch(ctx context.Context, db *conn, t table[K, V], hosts []HostKey) error {
	return s.kept.fill(hosts, func(batch []HostKey, out map[HostKey]map[K]V) error {
		return t.readHosts(ctx, db, batch, out)
	})
}

// load reads the whole table once; later calls return what the first one
// read.
func (s *snapshot[K, V]) load(ctx context.Context, db *conn, t table[K, V]) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.started = true
		s.mu.Unlock()
		rows, err := t.readAll(ctx, db)
		s.mu.Lock()
		s.rows, s.err = rows, err
		s.mu.Unlock()
	})
	return s.err
}

// get returns the row of k: from what prefetch kept for its host, else
// from the whole table.
func (s *snapshot[K, V]) get(ctx context.Context, db *conn, t table[K, V], k K) (V, bool, error) {
	if v, found, kept := s.kept.get(t.host(k), k); kept {
		return v, found, nil
	}
	if err := s.load(ctx, db, t); err != nil {
		var zero V
		return zero, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.rows[k]
	return v, ok, nil
}

// put records a row this DB just wrote: in what prefetch kept for its
// host, and in the whole table once its read has started. A read of the
// whole table that starts later sees the write, so put never reads it.
func (s *snapshot[K, V]) put(t table[K, V], k K, v V) {
	s.kept.put(t.host(k), k, v)
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return
	}
	s.once.Do(func() {}) // waits for the read under way; runs nothing
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil { // else lookups fail anyway
		s.rows[k] = v
	}
}

// readAll reads every row of the table. The query does not stop when ctx
// is cancelled: the snapshot keeps what the first lookup read, failure
// included, for every later lookup.
func (t table[K, V]) readAll(ctx context.Context, db *conn) (map[K]V, error) {
	out := make(map[K]V)
	err := t.each(context.WithoutCancel(ctx), db, "", nil, func(k K, v V) { out[k] = v })
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.what, err)
	}
	return out, nil
}

// readHosts adds to out, which holds a map for each host of hosts, the
// rows of hosts, read with one query.
func (t table[K, V]) readHosts(ctx context.Context, db *conn, hosts []HostKey, out map[HostKey]map[K]V) error {
	in, args := hostsIn(hosts)
	err := t.each(ctx, db, " WHERE "+in, args, func(k K, v V) {
		if rows, ok := out[t.host(k)]; ok {
			rows[k] = v
		}
	})
	if err != nil {
		return fmt.Errorf("read the %s of %d hosts: %w", t.what, len(hosts), err)
	}
	return nil
}

// each runs the table's query followed by where (with args) and hands
// every row's key and value to add.
func (t table[K, V]) each(ctx context.Context, db *conn, where string, args []any, add func(K, V)) error {
	return eachRow(ctx, db, func(rows *sql.Rows) error {
		k, v, err := t.scan(rows)
		if err != nil {
			return err
		}
		add(k, v)
		return nil
	}, t.query+where, args...)
}
