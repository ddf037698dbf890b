package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bounds on one insert statement of events, so that a round with many
// large events is sent in several statements of bounded size.
const (
	eventsPerInsert     = 1000
	eventBytesPerInsert = 16 << 20
)

// eventSize is about how many bytes r takes in a statement.
func eventSize(r *eventRow) int {
	n := len(r.Channel) + len(r.Fields) + 64
	for _, s := range []*string{r.Level, r.Provider, r.Computer, r.Message} {
		if s != nil {
			n += len(*s)
		}
	}
	return n
}

// sortEvents sorts a collection's events by channel, record id and time,
// the order every writer inserts them in.
func sortEvents(events []eventRow) {
	slices.SortStableFunc(events, func(a, b eventRow) int {
		if c := strings.Compare(a.Channel, b.Channel); c != 0 {
			return c
		}
		if c := cmp.Compare(a.RecordID, b.RecordID); c != 0 {
			return c
		}
		return a.At.Compare(b.At)
	})
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
	c.channels = append(c.channels, r.Channel)
	c.recordIDs = append(c.recordIDs, r.RecordID)
	c.collectionIDs = append(c.collectionIDs, collectionID)
	c.times = append(c.times, r.At)
	c.levels = append(c.levels, r.Level)
	c.providers = append(c.providers, r.Provider)
	c.eventIDs = append(c.eventIDs, r.EventID)
	c.computers = append(c.computers, r.Computer)
	c.messages = append(c.messages, r.Message)
	c.fields = append(c.fields, r.Fields)
	c.timeless = append(c.timeless, r.Timeless)
	c.bytes += eventSize(r)
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
		for j := range rows[i].Events {
			cols.add(hostIDs[i], collectionIDs[i], &rows[i].Events[j])
			if len(cols.hostIDs) >= eventsPerInsert || cols.bytes >= eventBytesPerInsert {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
