package sqlite

import (
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// insertEventSQL stores an event unless its host already has one with the
// same channel, record id and time: a replayed round, or a cursor that
// overlaps the previous round's, stores it once, and the first row is
// kept; a record id reused after the log was cleared, with another time,
// is another event. An event without a time from its source (?12) is the
// newest one stored under its record id, if any; otherwise it takes the
// end of its collection (?5).
const insertEventSQL = `
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES (?1, ?2, ?3, ?4,
        COALESCE(CASE WHEN ?12 THEN (SELECT MAX(event_time) FROM events WHERE host_id = ?1 AND channel = ?2 AND record_id = ?3) END, ?5),
        ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (host_id, channel, record_id, event_time) DO NOTHING`

// eventRow is an event as its columns' values: cleaned text, NULLs as nil.
type eventRow struct {
	channel                            string
	recordID                           int64
	at                                 string
	level, provider, computer, message any
	eventID                            int
	fields                             string
	// timeless: the source gave no time; at is the collection's end.
	timeless bool
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
		timeless: e.Time.IsZero(),
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
