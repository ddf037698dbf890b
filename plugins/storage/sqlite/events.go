package sqlite

import (
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// insertEventSQL stores an event unless its host already has one with the
// same channel and record id: a replayed round, or a cursor that overlaps
// the previous round's, stores it once, and the first row is kept.
const insertEventSQL = `
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (host_id, channel, record_id) DO NOTHING`

// eventRow is an event as its columns' values: cleaned text, NULLs as nil.
type eventRow struct {
	channel                            string
	recordID                           int64
	at                                 string
	level, provider, computer, message any
	eventID                            int
	fields                             string
}

// newEventRow turns e into its row; an event without a time takes seen,
// the end of its collection.
func newEventRow(e *storage.Event, seen time.Time) (eventRow, error) {
	fields, err := hosttext.FieldsJSON(e.Fields)
	if err != nil {
		return eventRow{}, err
	}
	return eventRow{
		channel: hosttext.Line(e.Channel, hosttext.MaxShortBytes),
		// The unsigned record number keeps its 64 bits: numbers from 2^63
		// up are stored negative (docs/schema.md).
		recordID: int64(e.RecordID),
		at:       formatTime(firstNonZero(e.Time, seen)),
		level:    nullLine(e.Level, hosttext.MaxShortBytes),
		provider: nullLine(e.Provider, hosttext.MaxShortBytes),
		eventID:  e.EventID,
		computer: nullLine(e.Computer, hosttext.MaxShortBytes),
		message:  nullBlock(e.Message, hosttext.MaxMessageBytes),
		fields:   fields,
	}, nil
}

// nullLine is NULL for the empty string, otherwise hosttext.Line.
func nullLine(s string, limit int) any {
	if s == "" {
		return nil
	}
	return hosttext.Line(s, limit)
}

// nullBlock is NULL for the empty string, otherwise hosttext.Block.
func nullBlock(s string, limit int) any {
	if s == "" {
		return nil
	}
	return hosttext.Block(s, limit)
}
