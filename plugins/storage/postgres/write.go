package postgres

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// upsertHostSQL inserts or updates a host and returns its id. A retried
// older round never moves last_seen, last_status or last_ok_at back.
const upsertHostSQL = `
INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (ip, port) DO UPDATE SET
    hostname = CASE WHEN excluded.hostname IS NOT NULL
                     AND (hosts.hostname IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
                    THEN excluded.hostname ELSE hosts.hostname END,
    os = CASE WHEN excluded.os IS NOT NULL
               AND (hosts.os IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
              THEN excluded.os ELSE hosts.os END,
    arch = CASE WHEN excluded.arch IS NOT NULL
                 AND (hosts.arch IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
                THEN excluded.arch ELSE hosts.arch END,
    agent_version = CASE WHEN excluded.agent_version IS NOT NULL
                          AND (hosts.agent_version IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
                         THEN excluded.agent_version ELSE hosts.agent_version END,
    first_seen = CASE WHEN hosts.first_seen IS NULL OR excluded.first_seen < hosts.first_seen
                      THEN excluded.first_seen ELSE hosts.first_seen END,
    last_seen = CASE WHEN hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen
                     THEN excluded.last_seen ELSE hosts.last_seen END,
    last_status = CASE WHEN hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen
                       THEN excluded.last_status ELSE hosts.last_status END,
    last_ok_at = CASE WHEN excluded.last_ok_at IS NOT NULL
                       AND (hosts.last_ok_at IS NULL OR excluded.last_ok_at > hosts.last_ok_at)
                      THEN excluded.last_ok_at ELSE hosts.last_ok_at END
RETURNING id`

// upsertCollectionSQL inserts or rewrites the collection of a host in a
// round and returns its id.
const upsertCollectionSQL = `
INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (round_id, host_id) DO UPDATE SET
    status = excluded.status,
    error = excluded.error,
    started_at = excluded.started_at,
    finished_at = excluded.finished_at,
    connect_ms = excluded.connect_ms,
    detect_ms = excluded.detect_ms,
    upload_ms = excluded.upload_ms,
    exec_ms = excluded.exec_ms,
    total_ms = excluded.total_ms,
    agent_uploaded = excluded.agent_uploaded,
    agent_version = excluded.agent_version
RETURNING id`

const deleteSamplesSQL = `DELETE FROM samples WHERE collection_id = ANY($1)`

var sampleColumns = []string{"collection_id", "host_id", "metric", "value", "unit", "collected_at"}

// WriteBatch stores one round in a single transaction: it upserts every
// host, upserts one collection per host and round, replaces that
// collection's samples, adds the events its host does not have yet (by
// channel and record id), and upserts the batch's alert states and
// notification records unless the stored ones are newer (by UpdatedAt).
// Writing the same batch again leaves the database as it was. An invalid
// batch is refused before anything is written; a failure half way rolls
// the whole batch back. No event is refused for its content: its text is
// cleaned and cut (see events.go). Rows are written host by
// host in (ip, port) order, so cores writing at the same time wait for
// each other instead of deadlocking; a transaction PostgreSQL aborts
// anyway is run again.
func (s *Store) WriteBatch(ctx context.Context, b *storage.Batch) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("refuse batch: %w", err)
	}
	rows, err := batchRows(b)
	if err != nil {
		return fmt.Errorf("write round %q: %w", b.RoundID, err)
	}
	st, err := newStateRows(b)
	if err != nil {
		return fmt.Errorf("write round %q: %w", b.RoundID, err)
	}
	known := len(s.migrations)
	if err := s.inTx(ctx, func(tx pgx.Tx) error { return writeRows(ctx, tx, known, rows, st) }); err != nil {
		return fmt.Errorf("write round %q: %w", b.RoundID, err)
	}
	return nil
}

// collectionRow is one collection of a batch as its columns' values:
// cleaned text, millisecond UTC times, NULLs as nil.
type collectionRow struct {
	roundID string
	ip      string
	port    int
	status  string

	hostname, os, arch, agentVersion any
	firstSeen, lastSeen              time.Time
	lastOKAt                         any

	errText    any
	startedAt  time.Time
	finishedAt any
	timings    [5]any // connect, detect, upload, exec, total
	uploaded   bool
	samples    []sampleRow
	events     []eventRow
	replacedBy int // index of a later row of the same host, or -1
	addr       string
}

type sampleRow struct {
	metric, unit string
	value        float64
	at           time.Time
}

// batchRows turns a validated batch into rows sorted by (ip, port), the
// lock order every writer follows. A host listed twice keeps both rows in
// their original order; the later one wins, as it would row by row.
func batchRows(b *storage.Batch) ([]collectionRow, error) {
	rows := make([]collectionRow, len(b.Collections))
	for i := range b.Collections {
		r, err := newCollectionRow(b, &b.Collections[i])
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].ip != rows[j].ip {
			return rows[i].ip < rows[j].ip
		}
		return rows[i].port < rows[j].port
	})
	last := map[string]int{}
	for i := range rows {
		rows[i].replacedBy = -1
		key := rows[i].addr
		if prev, ok := last[key]; ok {
			rows[prev].replacedBy = i
		}
		last[key] = i
	}
	return rows, nil
}

func newCollectionRow(b *storage.Batch, c *storage.Collection) (collectionRow, error) {
	started := firstNonZero(c.StartedAt, b.StartedAt)
	seen := firstNonZero(c.FinishedAt, started)
	r := collectionRow{
		roundID: b.RoundID, ip: c.HostIP, port: c.HostPort, status: string(c.Status),
		hostname: nullText(c.Hostname, hosttext.MaxShortBytes), os: nullText(c.OS, hosttext.MaxShortBytes),
		arch: nullText(c.Arch, hosttext.MaxShortBytes), agentVersion: nullText(c.AgentVersion, hosttext.MaxShortBytes),
		firstSeen: dbTime(started), lastSeen: dbTime(seen),
		errText: nullText(c.Error, hosttext.MaxErrorBytes), startedAt: dbTime(started), finishedAt: nullTime(c.FinishedAt),
		timings: [5]any{
			nullMillis(c.Timings.Connect), nullMillis(c.Timings.Detect), nullMillis(c.Timings.Upload),
			nullMillis(c.Timings.Exec), nullMillis(c.Timings.Total),
		},
		uploaded: c.AgentUploaded,
		addr:     hostAddr(c),
	}
	if c.Status == storage.StatusOK {
		r.lastOKAt = dbTime(seen)
	}
	// A metric repeated within one collection keeps its last value, in the
	// position of its first appearance.
	index := map[string]int{}
	for _, s := range c.Samples {
		row := sampleRow{
			metric: hosttext.Clean(s.Metric, hosttext.MaxShortBytes), unit: hosttext.Clean(s.Unit, hosttext.MaxShortBytes),
			value: s.Value, at: dbTime(firstNonZero(s.Time, seen)),
		}
		if i, ok := index[row.metric]; ok {
			r.samples[i] = row
			continue
		}
		index[row.metric] = len(r.samples)
		r.samples = append(r.samples, row)
	}
	events, err := newEventRows(c.Events, seen)
	if err != nil {
		return collectionRow{}, fmt.Errorf("host %s: %w", r.addr, err)
	}
	r.events = events
	return r, nil
}

// writeRows writes rows and st in tx: hosts, then collections, samples,
// events, alerts and notifications, each step in one round trip (events
// in a few for a large round).
func writeRows(ctx context.Context, tx pgx.Tx, knownVersion int, rows []collectionRow, st stateRows) error {
	if err := checkSchema(ctx, tx, knownVersion); err != nil {
		return err
	}
	if len(rows) == 0 && len(st.alerts) == 0 && len(st.notifications) == 0 {
		return nil
	}
	hostIDs, byHost, err := upsertHosts(ctx, tx, rows, st.hosts)
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		collectionIDs, err := upsertCollections(ctx, tx, rows, hostIDs)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, deleteSamplesSQL, collectionIDs); err != nil {
			return fmt.Errorf("replace samples of the round's collections: %w", err)
		}
		if err := copySamples(ctx, tx, rows, hostIDs, collectionIDs); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, rows, hostIDs, collectionIDs); err != nil {
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
		inRows[hostKey{rows[i].ip, rows[i].port}] = true
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
		if j == len(extra) || (i < len(rows) && compareHosts(hostKey{rows[i].ip, rows[i].port}, extra[j]) <= 0) {
			r := &rows[i]
			batch.Queue(upsertHostSQL, r.ip, r.port, r.hostname, r.os, r.arch, r.agentVersion,
				r.firstSeen, r.lastSeen, r.status, r.lastOKAt)
			reads = append(reads, i)
			i++
			continue
		}
		batch.Queue(ensureHostSQL, extra[j].ip, extra[j].port)
		batch.Queue(hostIDSQL, extra[j].ip, extra[j].port)
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
				return nil, nil, fmt.Errorf("upsert host %s (status %q): %w", r.addr, r.status, err)
			}
			byHost[hostKey{r.ip, r.port}] = ids[read]
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

func upsertCollections(ctx context.Context, tx pgx.Tx, rows []collectionRow, hostIDs []int64) ([]int64, error) {
	batch := &pgx.Batch{}
	for i := range rows {
		r := &rows[i]
		batch.Queue(upsertCollectionSQL, r.roundID, hostIDs[i], r.status, r.errText, r.startedAt, r.finishedAt,
			r.timings[0], r.timings[1], r.timings[2], r.timings[3], r.timings[4], r.uploaded, r.agentVersion)
	}
	ids := make([]int64, len(rows))
	results := tx.SendBatch(ctx, batch)
	for i := range rows {
		if err := results.QueryRow().Scan(&ids[i]); err != nil {
			_ = results.Close()
			return nil, fmt.Errorf("upsert collection of host %s (status %q): %w", rows[i].addr, rows[i].status, err)
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
		if rows[i].replacedBy >= 0 {
			continue
		}
		for _, s := range rows[i].samples {
			values = append(values, []any{collectionIDs[i], hostIDs[i], s.metric, s.value, s.unit, s.at})
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

func hostAddr(c *storage.Collection) string {
	return net.JoinHostPort(c.HostIP, strconv.Itoa(c.HostPort))
}

func firstNonZero(times ...time.Time) time.Time {
	for _, t := range times {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// dbTime is t as stored: UTC, cut to the millisecond like the SQLite
// backend's text timestamps, so both databases hold the same instants.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// nullTime is NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dbTime(t)
}

// nullMillis is the duration in (fractional) milliseconds, NULL when zero:
// the phase did not run.
func nullMillis(d time.Duration) any {
	if d == 0 {
		return nil
	}
	return float64(d) / float64(time.Millisecond)
}

// nullText is NULL for the empty string, otherwise hosttext.Clean.
func nullText(s string, limit int) any {
	if s == "" {
		return nil
	}
	return hosttext.Clean(s, limit)
}
