package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bounds of one round on top of Options.Max.
const (
	// countLimit is how many matching events beyond Max a round counts
	// (without rendering them) to report Truncated; beyond, the count is a
	// lower bound.
	countLimit = 10000
	// roundBudget bounds the approximate size of the events of a round,
	// well below the core's limit on a whole report.
	roundBudget = 8 << 20
)

// querier runs XPath queries on a channel; on Windows through wevtapi.dll,
// in tests on a fake log.
type querier interface {
	// query returns the rendered XML of the first render events matching
	// xpath in channel (oldest first, newest first when reverse), and how
	// many more matched, counting at most count of them.
	query(ctx context.Context, channel, xpath string, reverse bool, render, count int) (records [][]byte, more int, err error)
}

// read is Read on top of q: it checks the cursor against the log, plans
// the query, parses the events and advances the cursor.
func read(ctx context.Context, q querier, channel string, cursor Cursor, opts Options) (Result, error) {
	if channel == "" {
		return Result{}, errors.New("no event log channel given")
	}
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	st, err := inspect(ctx, q, channel, cursor)
	if err != nil {
		return Result{}, err
	}
	var res Result
	v := checkCursor(cursor, channel, st)
	switch {
	case v.reset:
		// Without a position but with the time of the last record read,
		// the cursor reads the cleared log by time (see Plan).
		cursor = Cursor{RecordTime: v.since}
		res.Reset, res.ResetReason, res.Since = true, v.reason, v.since
	case cursor.IsZero() && cursor.Channel != "" && !equalChannel(cursor.Channel, channel):
		// Another channel's time says nothing about this one.
		cursor.RecordTime = time.Time{}
	}
	res.Lost = v.lost
	cursor.Channel = channel

	plan := Plan(cursor, opts)
	records, more, err := q.query(ctx, channel, plan.XPath, false, plan.Max, countLimit)
	if err != nil {
		return Result{}, err
	}
	budget := roundBudget
	for i, rec := range records {
		e, err := ParseEventXML(rec)
		if err != nil || e.RecordID <= cursor.RecordID {
			res.Skipped++
			continue
		}
		if e.Channel == "" {
			e.Channel = channel
		}
		if budget -= approxSize(e); budget < 0 {
			res.Truncated = len(records) - i
			break
		}
		if isClearEvent(e, channel) && !res.Reset {
			res.Reset = true
			res.ResetReason = fmt.Sprintf("the log was cleared at %s (event %d, record %d)", e.Time.Format(time.RFC3339), e.EventID, e.RecordID)
		}
		res.Events = append(res.Events, e)
	}
	res.Truncated += more
	res.TruncatedAtLeast = more >= countLimit
	newest := Cursor{}
	if st.newestKnown {
		newest = st.newest
	}
	res.Cursor = Advance(cursor, res.Events, newest, res.Truncated == 0)
	return res, nil
}

// inspect finds the log's newest record and, for a cursor, whether its
// record still exists (and if not, the oldest record).
func inspect(ctx context.Context, q querier, channel string, cursor Cursor) (logState, error) {
	var st logState
	newest, found, err := probe(ctx, q, channel, "*", true)
	if err != nil {
		return logState{}, err
	}
	st.newest, st.newestKnown = newest, !found || !newest.IsZero()
	if cursor.IsZero() || cursor.Channel != "" && !equalChannel(cursor.Channel, channel) ||
		st.newestKnown && st.newest.RecordID < cursor.RecordID {
		// Nothing to look up: no cursor, another channel's, or a log that
		// ends before it (cleared).
		return st, nil
	}
	if st.anchor, st.anchorFound, err = probe(ctx, q, channel, recordXPath(cursor.RecordID), false); err != nil {
		return logState{}, err
	}
	if st.anchorFound {
		return st, nil
	}
	oldest, found, err := probe(ctx, q, channel, "*", false)
	if err != nil {
		return logState{}, err
	}
	st.oldest, st.oldestKnown = oldest, found && !oldest.IsZero()
	return st, nil
}

// probe returns the position of the first record xpath selects. found
// reports whether there was one; the position is zero when it could not be
// parsed.
func probe(ctx context.Context, q querier, channel, xpath string, reverse bool) (at Cursor, found bool, err error) {
	records, _, err := q.query(ctx, channel, xpath, reverse, 1, 0)
	if err != nil || len(records) == 0 {
		return Cursor{}, false, err
	}
	e, err := ParseEventXML(records[0])
	if err != nil {
		return Cursor{}, true, nil
	}
	return Cursor{Channel: channel, RecordID: e.RecordID, RecordTime: e.Time}, true, nil
}

// approxSize estimates the bytes e takes in a report.
func approxSize(e Event) int {
	n := 160 + len(e.Level) + len(e.Provider) + len(e.Computer) + len(e.Channel) + len(e.Message)
	for k, v := range e.Data {
		n += len(k) + len(v) + 6
	}
	return n
}
