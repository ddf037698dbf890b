package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// ModuleName is the name requests give the event log module.
const ModuleName = "eventlog"

// Notices are events the module adds on the read channel to say what
// happened to the log or the cursor. They carry NoticeEventID, Provider
// NoticeProvider, a RecordID with the top bit set (real record ids never
// get near 2^63), the kind of notice in Fields[FieldNotice] and, where a
// number applies, Fields[FieldCount].
const (
	NoticeEventID  = 0
	NoticeProvider = "cscs-agent"
	FieldNotice    = "notice"
	FieldCount     = "count"
)

// Kinds of notice (Fields[FieldNotice]).
const (
	// NoticeTruncated: more events matched than one round returns; they
	// follow next round.
	NoticeTruncated = "truncated"
	// NoticeReset: the log was cleared or recreated; the cursor restarted.
	NoticeReset = "reset"
	// NoticeLost: the log overwrote events before they could be read.
	NoticeLost = "lost"
	// NoticeSkipped: records could not be parsed and were passed over.
	NoticeSkipped = "skipped"
	// NoticeBadCursor: the cursor of the last round could not be read; the
	// module started over as on a first round.
	NoticeBadCursor = "bad_cursor"
)

// noticeRecordBit marks the record ids of notices.
const noticeRecordBit = 1 << 63

// ReadFunc reads one round of a channel; Read is the real one.
type ReadFunc func(ctx context.Context, channel string, cursor Cursor, opts Options) (Result, error)

// Module is the agent's built-in module reading a Windows event log
// channel (the Security log by default) incrementally; see Settings.
type Module struct {
	// Read reads the log; nil means Read.
	Read ReadFunc
	// Now is the clock stamping notices; nil means time.Now.
	Now func() time.Time
}

var _ module.EventModule = Module{}

// New returns the module reading through wevtapi.dll.
func New() Module { return Module{Read: Read, Now: time.Now} }

// Name returns "eventlog".
func (Module) Name() string { return ModuleName }

// Collect yields no metrics; the agent calls CollectEvents.
func (Module) Collect(context.Context, module.Config) ([]protocol.Metric, error) { return nil, nil }

// CollectEvents returns the events of the configured channel after cursor
// (the first window's on a first round), notices saying what the round
// could not deliver, no metrics, and the cursor of the next round. A cursor it cannot
// decode is replaced by a fresh start (and a notice). Errors, among them
// ErrAccessDenied and ErrChannelNotFound, leave the cursor unchanged.
func (m Module) CollectEvents(ctx context.Context, cfg module.Config, cursor string) ([]protocol.Event, []protocol.Metric, string, error) {
	channel, opts, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, nil, cursor, err
	}
	now := m.now()
	var notices []protocol.Event
	start, err := DecodeCursor(cursor)
	if err != nil {
		start = Cursor{}
		notices = append(notices, notice(channel, now, NoticeBadCursor, "warning", 0,
			fmt.Sprintf("the cursor of the last round could not be read (%v); reading the last %s again", err, formatWindow(opts.FirstWindow))))
	}
	read := m.Read
	if read == nil {
		read = Read
	}
	res, err := read(ctx, channel, start, opts)
	if err != nil {
		return nil, nil, cursor, fmt.Errorf("eventlog %s: %w", channel, err)
	}

	events := make([]protocol.Event, 0, len(res.Events)+len(notices)+4)
	events = append(events, notices...)
	before, after := resultNotices(channel, now, res, opts)
	events = append(events, before...)
	for _, e := range res.Events {
		events = append(events, e.ToProtocol())
	}
	events = append(events, after...)
	return events, nil, nextCursor(cursor, res.Cursor, channel), nil
}

// now returns the module's clock reading.
func (m Module) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

// nextCursor encodes next. The core keeps the old cursor when a module
// returns "", so a cursor reset to no position (a cleared, empty log, or
// an unreadable old cursor) is sent as an explicit zero cursor instead.
func nextCursor(previous string, next Cursor, channel string) string {
	if s := next.Encode(); s != "" || previous == "" {
		return s
	}
	b, err := json.Marshal(Cursor{Channel: channel})
	if err != nil {
		return ""
	}
	return string(b)
}

// resultNotices says what res could not deliver: before its events, a
// reset cursor, events lost to overwriting and unparsable records; after
// them, the events left for next round.
func resultNotices(channel string, now time.Time, res Result, opts Options) (before, after []protocol.Event) {
	if res.Reset {
		msg := res.ResetReason
		if msg == "" {
			msg = "the log was cleared"
		}
		switch {
		case slices.ContainsFunc(res.Events, func(e Event) bool { return isClearEvent(e, channel) }):
			msg += "; reading on from the clearing"
		case !res.Since.IsZero():
			msg += "; reading the new log from " + res.Since.UTC().Format(time.RFC3339) + " (the last record read) on"
		default:
			msg += "; reading the last " + formatWindow(opts.FirstWindow) + " again"
		}
		before = append(before, notice(channel, now, NoticeReset, "warning", 0, msg))
	}
	if res.Lost > 0 {
		before = append(before, notice(channel, now, NoticeLost, "warning", res.Lost,
			fmt.Sprintf("%d %s overwritten before being read: make the log larger or collect more often", res.Lost, plural(res.Lost, "event was", "events were"))))
	}
	if res.Skipped > 0 {
		n := uint64(res.Skipped)
		before = append(before, notice(channel, now, NoticeSkipped, "warning", n,
			fmt.Sprintf("%d %s could not be parsed and %s skipped", n, plural(n, "record", "records"), plural(n, "was", "were"))))
	}
	if res.Truncated > 0 {
		n := uint64(res.Truncated)
		msg := fmt.Sprintf("%d more %s waiting; they follow next round", n, plural(n, "event is", "events are"))
		if res.TruncatedAtLeast {
			msg = fmt.Sprintf("more than %d events are waiting; they follow in the next rounds", n)
		}
		after = append(after, notice(channel, now, NoticeTruncated, "information", n, msg))
	}
	return before, after
}

// notice builds one notice event of kind; count > 0 is added as a field.
func notice(channel string, now time.Time, kind, level string, count uint64, msg string) protocol.Event {
	fields := map[string]string{FieldNotice: kind}
	if count > 0 {
		fields[FieldCount] = strconv.FormatUint(count, 10)
	}
	return protocol.Event{
		Channel:  channel,
		RecordID: noticeRecordID(channel, kind, now),
		Time:     now.UTC(),
		Level:    level,
		Provider: NoticeProvider,
		EventID:  NoticeEventID,
		Message:  msg,
		Fields:   fields,
	}
}

// noticeRecordID is a record id for a notice, stable for its channel, kind
// and time, with the top bit set so it cannot meet a real record's.
func noticeRecordID(channel, kind string, now time.Time) uint64 {
	h := fnv.New64a()
	h.Write([]byte(channel + "\x00" + kind + "\x00" + now.UTC().Format(time.RFC3339Nano)))
	return h.Sum64() | noticeRecordBit
}

// formatWindow writes d the way settings spell it: "24h", "90m", "36h30m".
func formatWindow(d time.Duration) string {
	s := d.String()
	for _, unit := range []string{"m0s", "h0m"} {
		if strings.HasSuffix(s, unit) {
			s = s[:len(s)-len(unit)+1]
		}
	}
	return s
}

// plural returns one when n is 1, else many.
func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
