package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cursor is where a channel was read up to. The core keeps it per host and
// channel as the opaque string Encode returns.
type Cursor struct {
	// Channel is the channel the cursor belongs to.
	Channel string `json:"channel"`
	// RecordID is the EventRecordID of the last record read; 0 means no
	// position yet (the next round is a first round).
	RecordID uint64 `json:"record_id"`
	// RecordTime is that record's TimeCreated. A record with the same id
	// but another time means the log was cleared and refilled. Without a
	// RecordID it is the time of the last record read before the log was
	// found cleared: the next round reads the events since (see Plan).
	RecordTime time.Time `json:"record_time,omitzero"`
}

// maxCursorBytes bounds an encoded cursor; real ones are under 150 bytes.
const maxCursorBytes = 1024

// IsZero reports whether c holds no position.
func (c Cursor) IsZero() bool { return c.RecordID == 0 }

// Encode returns c as the core stores it: "" for a cursor without a
// position or time, else a small JSON object.
func (c Cursor) Encode() string {
	if c.IsZero() && c.RecordTime.IsZero() {
		return ""
	}
	b, err := json.Marshal(c)
	if err != nil { // only a time beyond year 9999 can fail: drop it
		c.RecordTime = time.Time{}
		b, _ = json.Marshal(c)
	}
	return string(b)
}

// DecodeCursor parses what Encode returned; "" is the zero cursor.
func DecodeCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if len(s) > maxCursorBytes {
		return Cursor{}, fmt.Errorf("event log cursor is %d bytes, more than %d: it was not written by this agent", len(s), maxCursorBytes)
	}
	var c Cursor
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return Cursor{}, fmt.Errorf("event log cursor is not valid: %w", err)
	}
	if len(c.Channel) > maxSystemBytes {
		return Cursor{}, errors.New("event log cursor names a channel longer than 256 bytes")
	}
	c.RecordTime = c.RecordTime.UTC()
	return c, nil
}

// Query is the plan of one round.
type Query struct {
	// XPath selects the events; it is run on the channel oldest first.
	XPath string
	// Max is the most events to return.
	Max int
	// First is set when the query is bounded by time rather than by a
	// record id (no cursor yet, or a reset one).
	First bool
}

// Plan returns the query of a round that starts at cursor: events after
// cursor.RecordID; without a position, the events of the last
// opts.FirstWindow; only opts.EventIDs when set. Out-of-range options are
// clamped (Options.Validate reports them). The time window is evaluated by
// the event log service against the host's clock (timediff), so planning
// needs no clock.
//
// A cursor without a position but with a RecordTime is that of a log
// found cleared (read's doing): record ids start again after a clear, so
// the new log is selected by time, not by id. Every record it holds was
// created after the clear and so, on a sane clock, at or after the time
// of the last record read before it: the query takes the events created
// at or after RecordTime, and also those of the first window (a clock set
// back in between must not hide them).
func Plan(cursor Cursor, opts Options) Query {
	opts = opts.clamped()
	var conds []string
	if len(opts.EventIDs) > 0 {
		terms := make([]string, len(opts.EventIDs))
		for i, id := range opts.EventIDs {
			terms[i] = "EventID=" + strconv.Itoa(id)
		}
		conds = append(conds, "("+strings.Join(terms, " or ")+")")
	}
	first := cursor.IsZero()
	window := "TimeCreated[timediff(@SystemTime) <= " + strconv.FormatInt(max(opts.FirstWindow.Milliseconds(), 1), 10) + "]"
	switch {
	case first && !cursor.RecordTime.IsZero():
		conds = append(conds, "(TimeCreated[@SystemTime >= '"+xpathTime(cursor.RecordTime)+"'] or "+window+")")
	case first:
		conds = append(conds, window)
	default:
		conds = append(conds, "EventRecordID > "+strconv.FormatUint(cursor.RecordID, 10))
	}
	return Query{XPath: "*[System[" + strings.Join(conds, " and ") + "]]", Max: opts.Max, First: first}
}

// xpathTime writes t for a comparison with @SystemTime: UTC, to the
// millisecond, cut down (so that ">=" still takes t itself).
func xpathTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// recordXPath selects the record with the given id.
func recordXPath(id uint64) string {
	return "*[System[EventRecordID=" + strconv.FormatUint(id, 10) + "]]"
}

// clamped returns o with defaults applied and values forced into range;
// event ids are sorted and deduplicated.
func (o Options) clamped() Options {
	if o.FirstWindow <= 0 {
		o.FirstWindow = DefaultFirstWindow
	}
	o.FirstWindow = min(o.FirstWindow, MaxFirstWindow)
	if o.Max <= 0 {
		o.Max = DefaultMax
	}
	o.Max = min(o.Max, MaxMax)
	var ids []int
	for _, id := range o.EventIDs {
		if id >= 0 && id <= 0xFFFF {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	o.EventIDs = ids[:min(len(ids), MaxEventIDs)]
	return o
}

// Advance returns the cursor after a round that read events (in the order
// read). It never moves back. When the round was complete (no matching
// event left out) it moves on to newest, the newest record of the log as
// seen before the query: the records up to there did not match (outside
// the first window, another event id, or unparsable), so the next round
// need not look at them again. A zero newest is unknown.
func Advance(cursor Cursor, events []Event, newest Cursor, complete bool) Cursor {
	for _, e := range events {
		if e.RecordID > cursor.RecordID {
			cursor.RecordID, cursor.RecordTime = e.RecordID, e.Time.UTC()
		}
	}
	if complete && newest.RecordID > cursor.RecordID {
		cursor.RecordID, cursor.RecordTime = newest.RecordID, newest.RecordTime.UTC()
	}
	return cursor
}

// logState is what Read found out about the log before querying it.
type logState struct {
	// newest is the newest record; zero with newestKnown means an empty log.
	newest      Cursor
	newestKnown bool
	// anchorFound: the record at the cursor's id exists; anchor is it
	// (zero when it could not be parsed).
	anchor      Cursor
	anchorFound bool
	// oldest is the oldest record, when known (probed only without anchor).
	oldest      Cursor
	oldestKnown bool
}

// verdict is checkCursor's decision.
type verdict struct {
	// reset: the cursor no longer fits the log; start again.
	reset  bool
	reason string
	// cleared: the reset is because the log was cleared (not because the
	// cursor names another channel): the new log is read from since, the
	// time of the last record read before the clear (see Plan).
	cleared bool
	since   time.Time
	lost    uint64
}

// checkCursor decides whether cursor still fits the log: a cursor for
// another channel means reset; a log whose newest record is older than the
// cursor (cleared), a record at the cursor's id with another time (cleared
// and refilled past the cursor's id) or no record at the cursor's id
// inside the log mean cleared; a log whose oldest record is past the
// cursor overwrote the records in between (lost). After a clear the record
// ids start again at 1, so reading on by id would skip every new record up
// to the old cursor's id: the round reads the new log by time instead.
func checkCursor(cursor Cursor, channel string, st logState) verdict {
	cleared := func(format string, args ...any) verdict {
		return verdict{reset: true, cleared: true, since: cursor.RecordTime, reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case cursor.IsZero():
		return verdict{}
	case cursor.Channel != "" && !equalChannel(cursor.Channel, channel):
		return verdict{reset: true, reason: fmt.Sprintf("the cursor was for the %s log, not %s", clip(cursor.Channel), channel)}
	case st.newestKnown && st.newest.RecordID == 0:
		return cleared("the log was cleared: it is empty, the last record read was %d", cursor.RecordID)
	case st.newestKnown && st.newest.RecordID < cursor.RecordID:
		return cleared("the log was cleared: its newest record is %d, the last record read was %d", st.newest.RecordID, cursor.RecordID)
	case st.anchorFound:
		if st.anchor.RecordID != 0 && !cursor.RecordTime.IsZero() && !st.anchor.RecordTime.Equal(cursor.RecordTime) {
			return cleared("the log was cleared and refilled: record %d is now from %s, not %s",
				cursor.RecordID, st.anchor.RecordTime.Format(time.RFC3339), cursor.RecordTime.Format(time.RFC3339))
		}
		return verdict{}
	case !st.oldestKnown:
		return verdict{}
	case st.oldest.RecordID > cursor.RecordID:
		return verdict{lost: st.oldest.RecordID - cursor.RecordID - 1}
	}
	return cleared("the log was cleared: record %d is gone", cursor.RecordID)
}

// equalChannel compares channel names as Windows does, ignoring case.
func equalChannel(a, b string) bool { return strings.EqualFold(a, b) }
