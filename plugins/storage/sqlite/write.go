package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// timeLayout is how every timestamp is stored: UTC, ISO-8601, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

const upsertHostSQL = `
INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
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
                      THEN excluded.last_ok_at ELSE hosts.last_ok_at END`

const hostIDSQL = `SELECT id FROM hosts WHERE ip = ?1 AND port = ?2`

const upsertCollectionSQL = `
INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
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
    agent_version = excluded.agent_version`

const collectionIDSQL = `SELECT id FROM collections WHERE round_id = ?1 AND host_id = ?2`

const deleteSamplesSQL = `DELETE FROM samples WHERE collection_id = ?1`

// A metric repeated within one collection keeps its last value.
const insertSampleSQL = `
INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (collection_id, metric) DO UPDATE SET
    value = excluded.value,
    unit = excluded.unit,
    collected_at = excluded.collected_at`

// WriteBatch stores one round in a single transaction: it upserts every
// host, upserts one collection per host and round, replaces that
// collection's samples, adds the events its host does not have yet (by
// channel and record id), and upserts the batch's alert states and
// notification records unless the stored ones are newer (by UpdatedAt).
// Writing the same batch again leaves the database as it was. An invalid
// batch is refused before anything is written; a failure half way rolls
// the whole batch back. No event is refused for its content: its text is
// cleaned and cut (see events.go).
func (s *Store) WriteBatch(ctx context.Context, b *storage.Batch) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("refuse batch: %w", err)
	}
	if err := writeBatch(ctx, s.db, len(s.migrations), b); err != nil {
		return fmt.Errorf("write round %q: %w", b.RoundID, err)
	}
	return nil
}

// writeBatch writes a batch that Batch.Validate accepted. Constraint
// violations still roll the whole transaction back.
func writeBatch(ctx context.Context, db *sql.DB, knownVersion int, b *storage.Batch) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := checkSchema(ctx, tx, knownVersion); err != nil {
		return err
	}

	w, err := prepareWriter(ctx, tx)
	if err != nil {
		return err
	}
	defer w.close()

	for i := range b.Collections {
		if err := w.writeCollection(ctx, b, &b.Collections[i]); err != nil {
			return err
		}
	}
	if err := writeState(ctx, tx, w.hostID, b); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// batchWriter holds the statements of one batch, prepared once and reused
// for every row. Ids are read with a SELECT after each upsert: an upsert
// with RETURNING costs several times more per row through the driver.
type batchWriter struct {
	upsertHost, hostID             *sql.Stmt
	upsertCollection, collectionID *sql.Stmt
	deleteSamples, insertSample    *sql.Stmt
	insertEvent                    *sql.Stmt
}

func prepareWriter(ctx context.Context, tx *sql.Tx) (*batchWriter, error) {
	w := &batchWriter{}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
		what  string
	}{
		{&w.upsertHost, upsertHostSQL, "host upsert"},
		{&w.hostID, hostIDSQL, "host id lookup"},
		{&w.upsertCollection, upsertCollectionSQL, "collection upsert"},
		{&w.collectionID, collectionIDSQL, "collection id lookup"},
		{&w.deleteSamples, deleteSamplesSQL, "sample delete"},
		{&w.insertSample, insertSampleSQL, "sample insert"},
		{&w.insertEvent, insertEventSQL, "event insert"},
	} {
		stmt, err := tx.PrepareContext(ctx, p.query)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare %s: %w", p.what, err)
		}
		*p.stmt = stmt
	}
	return w, nil
}

func (w *batchWriter) close() {
	for _, s := range []*sql.Stmt{w.upsertHost, w.hostID, w.upsertCollection, w.collectionID, w.deleteSamples, w.insertSample, w.insertEvent} {
		if s != nil {
			_ = s.Close()
		}
	}
}

func (w *batchWriter) writeCollection(ctx context.Context, b *storage.Batch, c *storage.Collection) error {
	host := hostAddr(c)
	started := firstNonZero(c.StartedAt, b.StartedAt)
	seen := firstNonZero(c.FinishedAt, started)
	var okAt any
	if c.Status == storage.StatusOK {
		okAt = formatTime(seen)
	}

	if _, err := w.upsertHost.ExecContext(ctx,
		c.HostIP, c.HostPort,
		nullText(c.Hostname, hosttext.MaxShortBytes), nullText(c.OS, hosttext.MaxShortBytes),
		nullText(c.Arch, hosttext.MaxShortBytes), nullText(c.AgentVersion, hosttext.MaxShortBytes),
		formatTime(started), formatTime(seen), string(c.Status), okAt,
	); err != nil {
		return fmt.Errorf("upsert host %s (status %q): %w", host, c.Status, err)
	}
	var hostID int64
	if err := w.hostID.QueryRowContext(ctx, c.HostIP, c.HostPort).Scan(&hostID); err != nil {
		return fmt.Errorf("read id of host %s: %w", host, err)
	}

	if _, err := w.upsertCollection.ExecContext(ctx,
		b.RoundID, hostID, string(c.Status), nullText(c.Error, hosttext.MaxErrorBytes),
		formatTime(started), nullTime(c.FinishedAt),
		nullMillis(c.Timings.Connect), nullMillis(c.Timings.Detect), nullMillis(c.Timings.Upload),
		nullMillis(c.Timings.Exec), nullMillis(c.Timings.Total),
		c.AgentUploaded, nullText(c.AgentVersion, hosttext.MaxShortBytes),
	); err != nil {
		return fmt.Errorf("upsert collection of host %s (status %q): %w", host, c.Status, err)
	}
	var collectionID int64
	if err := w.collectionID.QueryRowContext(ctx, b.RoundID, hostID).Scan(&collectionID); err != nil {
		return fmt.Errorf("read id of collection of host %s: %w", host, err)
	}

	if _, err := w.deleteSamples.ExecContext(ctx, collectionID); err != nil {
		return fmt.Errorf("replace samples of host %s: %w", host, err)
	}
	for _, s := range c.Samples {
		at := firstNonZero(s.Time, seen)
		if _, err := w.insertSample.ExecContext(ctx,
			collectionID, hostID, hosttext.Clean(s.Metric, hosttext.MaxShortBytes), s.Value,
			hosttext.Clean(s.Unit, hosttext.MaxShortBytes), formatTime(at),
		); err != nil {
			return fmt.Errorf("insert sample %q of host %s: %w", s.Metric, host, err)
		}
	}
	for i := range c.Events {
		e := &c.Events[i]
		r, err := newEventRow(e, seen)
		if err != nil {
			return fmt.Errorf("event %q/%d of host %s: %w", e.Channel, e.RecordID, host, err)
		}
		if _, err := w.insertEvent.ExecContext(ctx,
			hostID, r.channel, r.recordID, collectionID, r.at,
			r.level, r.provider, r.eventID, r.computer, r.message, r.fields, r.timeless,
		); err != nil {
			return fmt.Errorf("insert event %q/%d of host %s: %w", e.Channel, e.RecordID, host, err)
		}
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

func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// nullTime is NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
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
