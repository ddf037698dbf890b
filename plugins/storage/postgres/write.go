package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// The rows of a batch as PostgreSQL stores them: instants as millisecond
// UTC times.
type (
	rows            = sqlbatch.Rows[time.Time]
	collectionRow   = sqlbatch.Collection[time.Time]
	eventRow        = sqlbatch.Event[time.Time]
	alertRow        = sqlbatch.Alert[time.Time]
	notificationRow = sqlbatch.Notification[time.Time]
	hostKey         = sqlbatch.HostKey
)

var sampleColumns = []string{"collection_id", "host_id", "metric", "labels", "value", "unit", "collected_at"}

// WriteBatch stores one round in a single transaction: it upserts every
// host, upserts one collection per host and round, replaces that
// collection's samples, adds the events its host does not have yet (by
// channel and record id), and upserts the batch's alert states and
// notification records unless the stored ones are newer (by UpdatedAt).
// Writing the same batch again leaves the database as it was. An invalid
// batch is refused before anything is written; a failure half way rolls
// the whole batch back. No event is refused for its content: its text is
// cleaned and cut (see package sqlbatch). Rows are written host by
// host in (ip, port) order, so cores writing at the same time wait for
// each other instead of deadlocking; a transaction PostgreSQL aborts
// anyway is run again.
func (s *Store) WriteBatch(ctx context.Context, b *storage.Batch) error {
	return sqlbatch.Write(ctx, b, sqlbatch.Millis, func(ctx context.Context, r *rows) error {
		st := newStateRows(r)
		sortRows(r)
		known := len(s.migrations)
		return s.inTx(ctx, func(tx pgx.Tx) error { return writeRows(ctx, tx, known, r, st) })
	})
}

// sortRows puts the collections in (ip, port) order, the lock order every
// writer follows, and each collection's events in channel, record id and
// time order. A host listed twice keeps both rows in their original
// order; the later one wins, as it would row by row.
func sortRows(r *rows) {
	slices.SortStableFunc(r.Collections, func(a, b collectionRow) int { return a.Host.Compare(b.Host) })
	for i := range r.Collections {
		sortEvents(r.Collections[i].Events)
	}
}

// writeRows writes r and st in tx: hosts, then collections, samples,
// events, alerts and notifications, each step in one round trip (events
// in a few for a large round). r's collections are in lock order.
func writeRows(ctx context.Context, tx pgx.Tx, knownVersion int, r *rows, st stateRows) error {
	if err := checkSchema(ctx, tx, knownVersion); err != nil {
		return err
	}
	if len(r.Collections) == 0 && len(st.alerts) == 0 && len(st.notifications) == 0 {
		return nil
	}
	hostIDs, byHost, err := upsertHosts(ctx, tx, r.Collections, st.hosts)
	if err != nil {
		return err
	}
	if len(r.Collections) > 0 {
		collectionIDs, err := upsertCollections(ctx, tx, r, hostIDs)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, deleteSamplesSQL, collectionIDs); err != nil {
			return fmt.Errorf("replace samples of the round's collections: %w", err)
		}
		if err := copySamples(ctx, tx, r.Collections, hostIDs, collectionIDs); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, r.Collections, hostIDs, collectionIDs); err != nil {
			return err
		}
	}
	return writeState(ctx, tx, st, byHost)
}

// upsertHosts upserts the host of every collection row and adds the other
// hosts named (by alerts and notifications) that are missing, all in one
// round trip and in (ip, port) order. It returns the id of each row's
// host, and the id of every host by address.
func upsertHosts(ctx context.Context, tx pgx.Tx, rows []collectionRow, named []hostKey) ([]int64, map[hostKey]int64, error) {
	inRows := map[hostKey]bool{}
	for i := range rows {
		inRows[rows[i].Host] = true
	}
	var extra []hostKey
	for _, k := range named {
		if !inRows[k] {
			extra = append(extra, k)
		}
	}

	// Merge the two sorted lists; reads says what each queued statement
	// answers: a row index, or -1-j for extra[j] (whose insert is queued
	// just before its id lookup).
	batch := &pgx.Batch{}
	var reads []int
	for i, j := 0, 0; i < len(rows) || j < len(extra); {
		if j == len(extra) || (i < len(rows) && rows[i].Host.Compare(extra[j]) <= 0) {
			r := &rows[i]
			batch.Queue(upsertHostSQL, r.Host.IP, r.Host.Port, r.Hostname, r.OS, r.Arch, r.AgentVersion,
				r.StartedAt, r.Seen, r.Status, r.LastOKAt)
			reads = append(reads, i)
			i++
			continue
		}
		batch.Queue(ensureHostSQL, extra[j].IP, extra[j].Port)
		batch.Queue(hostIDSQL, extra[j].IP, extra[j].Port)
		reads = append(reads, -1-j)
		j++
	}

	ids := make([]int64, len(rows))
	byHost := make(map[hostKey]int64, len(rows)+len(extra))
	results := tx.SendBatch(ctx, batch)
	for _, read := range reads {
		if read >= 0 {
			r := &rows[read]
			if err := results.QueryRow().Scan(&ids[read]); err != nil {
				_ = results.Close()
				return nil, nil, fmt.Errorf("upsert host %s (status %q): %w", r.Host, r.Status, err)
			}
			byHost[r.Host] = ids[read]
			continue
		}
		k := extra[-1-read]
		var id int64
		if _, err := results.Exec(); err != nil {
			_ = results.Close()
			return nil, nil, fmt.Errorf("add host %s: %w", k, err)
		}
		if err := results.QueryRow().Scan(&id); err != nil {
			_ = results.Close()
			return nil, nil, fmt.Errorf("read id of host %s: %w", k, err)
		}
		byHost[k] = id
	}
	if err := results.Close(); err != nil {
		return nil, nil, fmt.Errorf("upsert hosts: %w", err)
	}
	return ids, byHost, nil
}

func upsertCollections(ctx context.Context, tx pgx.Tx, r *rows, hostIDs []int64) ([]int64, error) {
	batch := &pgx.Batch{}
	for i := range r.Collections {
		c := &r.Collections[i]
		batch.Queue(upsertCollectionSQL, r.RoundID, hostIDs[i], c.Status, c.Error, c.StartedAt, c.FinishedAt,
			c.Timings[0], c.Timings[1], c.Timings[2], c.Timings[3], c.Timings[4], c.AgentUploaded, c.AgentVersion)
	}
	ids := make([]int64, len(r.Collections))
	results := tx.SendBatch(ctx, batch)
	for i := range r.Collections {
		if err := results.QueryRow().Scan(&ids[i]); err != nil {
			_ = results.Close()
			return nil, fmt.Errorf("upsert collection of host %s (status %q): %w", r.Collections[i].Host, r.Collections[i].Status, err)
		}
	}
	if err := results.Close(); err != nil {
		return nil, fmt.Errorf("upsert collections: %w", err)
	}
	return ids, nil
}

// copySamples streams every sample of the batch with COPY. A host listed
// twice in the batch gets the samples of its last row only.
func copySamples(ctx context.Context, tx pgx.Tx, rows []collectionRow, hostIDs, collectionIDs []int64) error {
	var values [][]any
	for i := range rows {
		if i+1 < len(rows) && rows[i+1].Host == rows[i].Host {
			continue // replaced by the next row, of the same host
		}
		for _, s := range rows[i].Samples {
			values = append(values, []any{collectionIDs[i], hostIDs[i], s.Metric, s.Labels, s.Value, s.Unit, s.At})
		}
	}
	if len(values) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"samples"}, sampleColumns, pgx.CopyFromRows(values)); err != nil {
		return fmt.Errorf("insert %d samples: %w", len(values), err)
	}
	return nil
}
