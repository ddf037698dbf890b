package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// timeLayout is how every timestamp is stored: UTC, ISO-8601, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// rows are a batch as SQLite stores it: instants as text.
type rows = sqlbatch.Rows[string]

// WriteBatch stores one round in a single transaction: it upserts every
// host, upserts one collection per host and round, replaces that
// collection's samples, adds the events its host does not have yet (by
// channel and record id), and upserts the batch's alert states and
// notification records unless the stored ones are newer (by UpdatedAt).
// Writing the same batch again leaves the database as it was. An invalid
// batch is refused before anything is written; a failure half way rolls
// the whole batch back. No event is refused for its content: its text is
// cleaned and cut (see package sqlbatch).
func (s *Store) WriteBatch(ctx context.Context, b *storage.Batch) error {
	return sqlbatch.Write(ctx, b, formatTime, func(ctx context.Context, r *rows) error {
		return writeRows(ctx, s.db, len(s.migrations), r)
	})
}

// writeRows writes the rows of a batch. Constraint violations still roll
// the whole transaction back.
func writeRows(ctx context.Context, db *sql.DB, knownVersion int, r *rows) (err error) {
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

	for i := range r.Collections {
		if err := w.writeCollection(ctx, r.RoundID, &r.Collections[i]); err != nil {
			return err
		}
	}
	if err := writeState(ctx, tx, w.hostID, r); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// statement is a query to prepare into *stmt; what names it in errors.
type statement struct {
	stmt  **sql.Stmt
	query string
	what  string
}

// prepare prepares every statement in tx; on an error it closes those it
// prepared.
func prepare(ctx context.Context, tx *sql.Tx, statements []statement) error {
	for i, p := range statements {
		stmt, err := tx.PrepareContext(ctx, p.query)
		if err != nil {
			closeStatements(statements[:i])
			return fmt.Errorf("prepare %s: %w", p.what, err)
		}
		*p.stmt = stmt
	}
	return nil
}

func closeStatements(statements []statement) {
	for _, p := range statements {
		if *p.stmt != nil {
			_ = (*p.stmt).Close()
		}
	}
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
	if err := prepare(ctx, tx, w.statements()); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *batchWriter) statements() []statement {
	return []statement{
		{&w.upsertHost, upsertHostSQL, "host upsert"},
		{&w.hostID, hostIDSQL, "host id lookup"},
		{&w.upsertCollection, upsertCollectionSQL, "collection upsert"},
		{&w.collectionID, collectionIDSQL, "collection id lookup"},
		{&w.deleteSamples, deleteSamplesSQL, "sample delete"},
		{&w.insertSample, insertSampleSQL, "sample insert"},
		{&w.insertEvent, insertEventSQL, "event insert"},
	}
}

func (w *batchWriter) close() { closeStatements(w.statements()) }

func (w *batchWriter) writeCollection(ctx context.Context, roundID string, c *sqlbatch.Collection[string]) error {
	if _, err := w.upsertHost.ExecContext(ctx,
		c.Host.IP, c.Host.Port, c.Hostname, c.OS, c.Arch, c.AgentVersion,
		c.StartedAt, c.Seen, c.Status, c.LastOKAt,
	); err != nil {
		return fmt.Errorf("upsert host %s (status %q): %w", c.Host, c.Status, err)
	}
	var hostID int64
	if err := w.hostID.QueryRowContext(ctx, c.Host.IP, c.Host.Port).Scan(&hostID); err != nil {
		return fmt.Errorf("read id of host %s: %w", c.Host, err)
	}

	if _, err := w.upsertCollection.ExecContext(ctx,
		roundID, hostID, c.Status, c.Error, c.StartedAt, c.FinishedAt,
		c.Timings[0], c.Timings[1], c.Timings[2], c.Timings[3], c.Timings[4],
		c.AgentUploaded, c.AgentVersion,
	); err != nil {
		return fmt.Errorf("upsert collection of host %s (status %q): %w", c.Host, c.Status, err)
	}
	var collectionID int64
	if err := w.collectionID.QueryRowContext(ctx, roundID, hostID).Scan(&collectionID); err != nil {
		return fmt.Errorf("read id of collection of host %s: %w", c.Host, err)
	}

	if _, err := w.deleteSamples.ExecContext(ctx, collectionID); err != nil {
		return fmt.Errorf("replace samples of host %s: %w", c.Host, err)
	}
	for _, s := range c.Samples {
		if _, err := w.insertSample.ExecContext(ctx, collectionID, hostID, s.Metric, s.Labels, s.Value, s.Unit, s.At); err != nil {
			return fmt.Errorf("insert sample %q of host %s: %w", s.Metric, c.Host, err)
		}
	}
	for _, e := range c.Events {
		if _, err := w.insertEvent.ExecContext(ctx,
			hostID, e.Channel, e.RecordID, collectionID, e.At,
			e.Level, e.Provider, e.EventID, e.Computer, e.Message, e.Fields, e.Timeless,
		); err != nil {
			return fmt.Errorf("insert event %q/%d of host %s: %w", e.Channel, uint64(e.RecordID), c.Host, err)
		}
	}
	return nil
}

func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}
