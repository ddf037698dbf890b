// Package eventlog reads a Windows event log channel (the Security log
// above all) incrementally: it plans an XPath query from a cursor, reads
// the matching events through wevtapi.dll, parses their rendered XML and
// advances the cursor by EventRecordID.
//
// Everything except the wevtapi bindings is platform neutral and tested on
// any OS: the XML parser (ParseEventXML), the query planning (Plan), the
// cursor (Cursor, DecodeCursor, Advance) and the round logic that detects
// a cleared or overwritten log. Rendered event XML is treated as hostile:
// sizes are capped, control characters stripped, invalid UTF-8 replaced and
// document type declarations refused.
package eventlog

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// Defaults and bounds of Options.
const (
	// DefaultFirstWindow bounds the first round: only events this recent.
	DefaultFirstWindow = 24 * time.Hour
	// MaxFirstWindow is the largest FirstWindow accepted.
	MaxFirstWindow = 366 * 24 * time.Hour
	// DefaultMax is the number of events one round returns at most.
	DefaultMax = 500
	// MaxMax is the largest Options.Max accepted.
	MaxMax = 5000
	// MaxEventIDs is how many event ids Options.EventIDs may list; longer
	// XPath expressions would need a structured query.
	MaxEventIDs = 16
)

// Errors a caller may want to tell apart (errors.Is).
var (
	// ErrAccessDenied: the account may not read the channel.
	ErrAccessDenied = errors.New("access denied: add the account to Event Log Readers or Administrators")
	// ErrChannelNotFound: the host has no channel of that name.
	ErrChannelNotFound = errors.New("no such event log channel on this host (wevtutil el lists them)")
	// ErrMalformedEvent: an event's XML could not be parsed; only that
	// event is lost.
	ErrMalformedEvent = errors.New("malformed event XML")
)

// UnsupportedError is what Read returns on an operating system without
// Windows event logs. It matches errors.ErrUnsupported.
type UnsupportedError struct {
	// GOOS is the operating system the agent was built for.
	GOOS string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("windows event logs cannot be read on %s", e.GOOS)
}

// Is reports whether target is errors.ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// Event is one parsed event log record.
type Event struct {
	RecordID uint64
	EventID  int
	// Time is System/TimeCreated, in UTC.
	Time time.Time
	// Level is "critical", "error", "warning", "information", "verbose",
	// "audit_success" or "audit_failure" (the last two from the audit
	// keywords of Security events, whose numeric level is 0).
	Level    string
	Provider string
	Computer string
	Channel  string
	// Message is RenderingInfo/Message when the XML has it, otherwise a
	// short description of well-known Security events, otherwise empty.
	Message string
	// Data holds EventData/Data Name=value pairs (unnamed ones as "Data1",
	// "Data2"...; EventData/Binary as "Binary") and UserData leaves keyed by
	// their element path below UserData ("LogFileCleared/SubjectUserName",
	// attributes as "Element/@Attr"). A repeated key gets "#2", "#3"...
	Data map[string]string
	// Truncated is set when values, fields or the XML itself were cut to
	// the package's size caps.
	Truncated bool
}

// Keys ToProtocol adds to protocol.Event.Fields beside Event.Data; they
// replace event data of the same name.
const (
	FieldComputer  = "computer"
	FieldTruncated = "truncated"
)

// ToProtocol converts e to the agent's wire type. Fields holds a copy of
// Data plus FieldComputer and, for a cut event, FieldTruncated="true".
func (e Event) ToProtocol() protocol.Event {
	fields := maps.Clone(e.Data)
	if fields == nil && (e.Computer != "" || e.Truncated) {
		fields = map[string]string{}
	}
	if e.Computer != "" {
		fields[FieldComputer] = e.Computer
	}
	if e.Truncated {
		fields[FieldTruncated] = "true"
	}
	return protocol.Event{
		Channel:  e.Channel,
		RecordID: e.RecordID,
		Time:     e.Time.UTC(),
		Level:    e.Level,
		Provider: e.Provider,
		EventID:  e.EventID,
		Message:  e.Message,
		Fields:   fields,
	}
}

// Options tune one round. The zero value means: the last 24 hours on the
// first round, every event id, at most 500 events.
type Options struct {
	// FirstWindow bounds the first round (no cursor, or a reset one) to
	// events created this long ago or less. 0 means DefaultFirstWindow.
	FirstWindow time.Duration
	// EventIDs, when not empty, selects only these event ids (0..65535).
	EventIDs []int
	// Max is the most events a round returns; 0 means DefaultMax.
	Max int
}

// Validate reports the first option out of range.
func (o Options) Validate() error {
	if o.FirstWindow < 0 || o.FirstWindow > MaxFirstWindow {
		return fmt.Errorf("first window %s is out of range: use 0 (24h) up to %s", o.FirstWindow, MaxFirstWindow)
	}
	if o.Max < 0 || o.Max > MaxMax {
		return fmt.Errorf("max %d is out of range: use 0 (%d) up to %d", o.Max, DefaultMax, MaxMax)
	}
	if len(o.EventIDs) > MaxEventIDs {
		return fmt.Errorf("%d event ids listed: at most %d are supported", len(o.EventIDs), MaxEventIDs)
	}
	for _, id := range o.EventIDs {
		if id < 0 || id > 0xFFFF {
			return fmt.Errorf("event id %d is out of range 0..65535", id)
		}
	}
	return nil
}

// Result is what one round read.
type Result struct {
	// Events are the new events, oldest first, at most Options.Max.
	Events []Event
	// Cursor is where the next round starts; Encode it for the core.
	Cursor Cursor
	// Truncated counts matching events left for later rounds because of
	// Options.Max or the size budget of a round; when TruncatedAtLeast is
	// set, it is a lower bound ("more than Truncated").
	Truncated        int
	TruncatedAtLeast bool
	// Reset is set when the log was cleared or recreated since the cursor
	// (or the cursor was for another channel): the cursor restarted as on
	// a first round. ResetReason says why, for people.
	Reset       bool
	ResetReason string
	// Since is set when the reset was a cleared log and the cursor knew
	// when its last record was created: the new log was read from then on
	// (and the first window), not only the first window (see Plan).
	Since time.Time
	// Lost counts events the log overwrote before they could be read
	// (retention "overwrite as needed" wrapped past the cursor).
	Lost uint64
	// Skipped counts records whose XML could not be parsed; the cursor
	// moves past them.
	Skipped int
}
