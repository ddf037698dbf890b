package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Bounds on one insert statement of events, so that a round with many
// large events is sent in several statements of bounded size.
const (
	eventsPerInsert     = 1000
	eventBytesPerInsert = 16 << 20
)

// insertEventsSQL stores events given as parallel arrays, each unless its
// host already has one with the same channel, record id and time: a
// replayed round, or a cursor that overlaps the previous round's, stores
// it once, and the first row is kept; a record id reused after the log was
// cleared, with another time, is another event. An event without a time
// from its source ($12) is the newest one stored under its record id, if
// any; otherwise it takes the end of its collection ($5).
const insertEventsSQL = `
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
SELECT e.host_id, e.channel, e.record_id, e.collection_id,
       COALESCE(CASE WHEN e.timeless THEN (SELECT max(x.event_time) FROM events x
                                           WHERE x.host_id = e.host_id AND x.channel = e.channel AND x.record_id = e.record_id) END,
                e.event_time),
       e.level, e.provider, e.event_id, e.computer, e.message, e.fields::jsonb
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::timestamptz[],
            $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[])
     AS e(host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields, timeless)
ON CONFLICT (host_id, channel, record_id, event_time) DO NOTHING`

// eventRow is an event as its columns' values: cleaned text, millisecond
// UTC time, NULLs as nil.
type eventRow struct {
	channel                            string
	recordID                           int64
	at                                 time.Time
	level, provider, computer, message *string
	eventID                            int64
	fields                             string
	// timeless: the source gave no time; at is the collection's end.
	timeless bool
}

// size is about how many bytes the row takes in a statement.
func (r *eventRow) size() int {
	n := len(r.channel) + len(r.fields) + 64
	for _, s := range []*string{r.level, r.provider, r.computer, r.message} {
		if s != nil {
			n += len(*s)
		}
	}
	return n
}

// newEventRows turns a collection's events into rows sorted by channel,
// record id and time, the order every writer inserts them in. An event without a
// time takes seen, the end of its collection.
func newEventRows(events []storage.Event, seen time.Time) ([]eventRow, error) {
	if len(events) == 0 {
		return nil, nil
	}
	rows := make([]eventRow, len(events))
	for i := range events {
		e := &events[i]
		fields, err := hosttext.FieldsJSON(e.Fields)
		if err != nil {
			return nil, fmt.Errorf("event %q/%d: %w", e.Channel, e.RecordID, err)
		}
		rows[i] = eventRow{
			channel: hosttext.Line(e.Channel, hosttext.MaxShortBytes),
			// The unsigned record number keeps its 64 bits: numbers from
			// 2^63 up are stored negative (docs/schema.md).
			recordID: int64(e.RecordID),
			at:       dbTime(firstNonZero(e.Time, seen)),
			level:    nullLine(e.Level, hosttext.MaxShortBytes),
			provider: nullLine(e.Provider, hosttext.MaxShortBytes),
			eventID:  int64(e.EventID),
			computer: nullLine(e.Computer, hosttext.MaxShortBytes),
			message:  nullBlock(e.Message, hosttext.MaxMessageBytes),
			fields:   fields,
			timeless: e.Time.IsZero(),
		}
	}
	slices.SortStableFunc(rows, func(a, b eventRow) int {
		if c := strings.Compare(a.channel, b.channel); c != 0 {
			return c
		}
		if c := cmp.Compare(a.recordID, b.recordID); c != 0 {
			return c
		}
		return a.at.Compare(b.at)
	})
	return rows, nil
}

// eventColumns are the parallel arrays of one insertEventsSQL statement.
type eventColumns struct {
	hostIDs, recordIDs, collectionIDs, eventIDs []int64
	channels, fields                            []string
	times                                       []time.Time
	levels, providers, computers, messages      []*string
	timeless                                    []bool
	bytes                                       int
}

func (c *eventColumns) add(hostID, collectionID int64, r *eventRow) {
	c.hostIDs = append(c.hostIDs, hostID)
	c.channels = append(c.channels, r.channel)
	c.recordIDs = append(c.recordIDs, r.recordID)
	c.collectionIDs = append(c.collectionIDs, collectionID)
	c.times = append(c.times, r.at)
	c.levels = append(c.levels, r.level)
	c.providers = append(c.providers, r.provider)
	c.eventIDs = append(c.eventIDs, r.eventID)
	c.computers = append(c.computers, r.computer)
	c.messages = append(c.messages, r.message)
	c.fields = append(c.fields, r.fields)
	c.timeless = append(c.timeless, r.timeless)
	c.bytes += r.size()
}

func (c *eventColumns) args() []any {
	return []any{c.hostIDs, c.channels, c.recordIDs, c.collectionIDs, c.times,
		c.levels, c.providers, c.eventIDs, c.computers, c.messages, c.fields, c.timeless}
}

// insertEvents inserts the events of every collection row, in lock order
// (hosts by address, then channel, record id and time), in statements of at
// most eventsPerInsert rows and about eventBytesPerInsert bytes. The
// events of a host listed twice are all inserted, under its one
// collection of the round.
func insertEvents(ctx context.Context, tx pgx.Tx, rows []collectionRow, hostIDs, collectionIDs []int64) error {
	var cols eventColumns
	var inserted int
	flush := func() error {
		if len(cols.hostIDs) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, insertEventsSQL, cols.args()...); err != nil {
			return fmt.Errorf("insert events %d to %d of the round: %w", inserted+1, inserted+len(cols.hostIDs), err)
		}
		inserted += len(cols.hostIDs)
		cols = eventColumns{}
		return nil
	}
	for i := range rows {
		for j := range rows[i].events {
			cols.add(hostIDs[i], collectionIDs[i], &rows[i].events[j])
			if len(cols.hostIDs) >= eventsPerInsert || cols.bytes >= eventBytesPerInsert {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// nullLine is NULL for the empty string, otherwise hosttext.Line.
func nullLine(s string, limit int) *string {
	if s == "" {
		return nil
	}
	c := hosttext.Line(s, limit)
	return &c
}

// nullBlock is NULL for the empty string, otherwise hosttext.Block.
func nullBlock(s string, limit int) *string {
	if s == "" {
		return nil
	}
	c := hosttext.Block(s, limit)
	return &c
}
