package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// fakeReader is a ReadFunc that records its call and answers with a fixed
// result.
type fakeReader struct {
	res    Result
	err    error
	calls  int
	gotCh  string
	gotCur Cursor
	gotOpt Options
}

func (f *fakeReader) read(_ context.Context, channel string, cursor Cursor, opts Options) (Result, error) {
	f.calls++
	f.gotCh, f.gotCur, f.gotOpt = channel, cursor, opts
	return f.res, f.err
}

var (
	testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	t10     = time.Date(2026, 3, 4, 4, 0, 0, 0, time.UTC)
	t12     = time.Date(2026, 3, 4, 4, 30, 0, 0, time.UTC)
)

func logon(id uint64, at time.Time) Event {
	return Event{RecordID: id, EventID: 4624, Time: at, Level: "audit_success", Provider: providerSecurityAuditing,
		Computer: "WIN1", Channel: "Security", Data: map[string]string{"TargetUserName": "alice"}}
}

func TestCollectEvents(t *testing.T) {
	at10 := Cursor{Channel: "Security", RecordID: 10, RecordTime: t10}
	at12 := Cursor{Channel: "Security", RecordID: 12, RecordTime: t12}
	cleared := Event{RecordID: 1, EventID: 1102, Time: t12, Provider: providerEventlog, Channel: "Security"}
	tests := map[string]struct {
		settings string
		cursor   string
		res      Result
		readErr  error

		wantRead    bool
		wantChannel string
		wantCursor  Cursor // what the reader was given
		wantRecords []uint64
		wantNotices []string // kinds, in order
		wantMessage string   // in some notice
		wantNext    string
		wantErr     error
	}{
		"first round": {
			res:      Result{Events: []Event{logon(11, t10), logon(12, t12)}, Cursor: at12},
			wantRead: true, wantChannel: "Security", wantRecords: []uint64{11, 12}, wantNext: at12.Encode(),
		},
		"cursor round trip": {
			settings: `{"channel": "Security", "event_ids": [4624]}`,
			cursor:   at10.Encode(),
			res:      Result{Events: []Event{logon(12, t12)}, Cursor: at12},
			wantRead: true, wantChannel: "Security", wantCursor: at10, wantRecords: []uint64{12}, wantNext: at12.Encode(),
		},
		"nothing new keeps the cursor": {
			cursor:   at12.Encode(),
			res:      Result{Cursor: at12},
			wantRead: true, wantChannel: "Security", wantCursor: at12, wantNext: at12.Encode(),
		},
		"truncated": {
			cursor:   at10.Encode(),
			res:      Result{Events: []Event{logon(11, t10), logon(12, t12)}, Cursor: at12, Truncated: 412},
			wantRead: true, wantChannel: "Security", wantCursor: at10, wantRecords: []uint64{11, 12},
			wantNotices: []string{NoticeTruncated}, wantMessage: "412 more events are waiting; they follow next round", wantNext: at12.Encode(),
		},
		"truncated at least": {
			res:      Result{Events: []Event{logon(12, t12)}, Cursor: at12, Truncated: 10000, TruncatedAtLeast: true},
			wantRead: true, wantChannel: "Security", wantRecords: []uint64{12},
			wantNotices: []string{NoticeTruncated}, wantMessage: "more than 10000 events are waiting", wantNext: at12.Encode(),
		},
		"reset": {
			settings: `{"first_window": "36h"}`,
			cursor:   Cursor{Channel: "Security", RecordID: 900, RecordTime: t10}.Encode(),
			res:      Result{Events: []Event{logon(12, t12)}, Cursor: at12, Reset: true, ResetReason: "the log was cleared: its newest record is 12, the last record read was 900"},
			wantRead: true, wantChannel: "Security", wantCursor: Cursor{Channel: "Security", RecordID: 900, RecordTime: t10}, wantRecords: []uint64{12},
			wantNotices: []string{NoticeReset},
			wantMessage: "the log was cleared: its newest record is 12, the last record read was 900; reading the last 36h again",
			wantNext:    at12.Encode(),
		},
		"cleared during the round": {
			cursor:   at10.Encode(),
			res:      Result{Events: []Event{cleared, logon(2, t12)}, Cursor: Cursor{Channel: "Security", RecordID: 2, RecordTime: t12}, Reset: true, ResetReason: "the log was cleared at 2026-03-04T04:30:00Z (event 1102, record 1)"},
			wantRead: true, wantChannel: "Security", wantCursor: at10, wantRecords: []uint64{1, 2},
			wantNotices: []string{NoticeReset}, wantMessage: "(event 1102, record 1); reading on from the clearing",
			wantNext: Cursor{Channel: "Security", RecordID: 2, RecordTime: t12}.Encode(),
		},
		"cleared, read from the last record read": {
			cursor:   Cursor{Channel: "Security", RecordID: 900, RecordTime: t10}.Encode(),
			res:      Result{Events: []Event{logon(12, t12)}, Cursor: at12, Reset: true, Since: t10, ResetReason: "the log was cleared: its newest record is 12, the last record read was 900"},
			wantRead: true, wantChannel: "Security", wantCursor: Cursor{Channel: "Security", RecordID: 900, RecordTime: t10}, wantRecords: []uint64{12},
			wantNotices: []string{NoticeReset},
			wantMessage: "the last record read was 900; reading the new log from 2026-03-04T04:00:00Z (the last record read) on",
			wantNext:    at12.Encode(),
		},
		"cleared and empty, the time kept": {
			cursor:   at12.Encode(),
			res:      Result{Cursor: Cursor{Channel: "Security", RecordTime: t12}, Reset: true, Since: t12, ResetReason: "the log was cleared: it is empty, the last record read was 12"},
			wantRead: true, wantChannel: "Security", wantCursor: at12,
			wantNotices: []string{NoticeReset}, wantMessage: "reading the new log from 2026-03-04T04:30:00Z (the last record read) on",
			wantNext: `{"channel":"Security","record_id":0,"record_time":"2026-03-04T04:30:00Z"}`,
		},
		"cleared and empty": {
			cursor:   at12.Encode(),
			res:      Result{Reset: true, ResetReason: "the log was cleared: it is empty, the last record read was 12"},
			wantRead: true, wantChannel: "Security", wantCursor: at12,
			wantNotices: []string{NoticeReset}, wantMessage: "it is empty, the last record read was 12; reading the last 24h again",
			wantNext: `{"channel":"Security","record_id":0}`,
		},
		"lost and skipped": {
			cursor:   at10.Encode(),
			res:      Result{Events: []Event{logon(12, t12)}, Cursor: at12, Lost: 1, Skipped: 3, Truncated: 1},
			wantRead: true, wantChannel: "Security", wantCursor: at10, wantRecords: []uint64{12},
			wantNotices: []string{NoticeLost, NoticeSkipped, NoticeTruncated},
			wantMessage: "1 event was overwritten before being read", wantNext: at12.Encode(),
		},
		"bad cursor": {
			cursor:   "not a cursor",
			res:      Result{Events: []Event{logon(12, t12)}, Cursor: at12},
			wantRead: true, wantChannel: "Security", wantRecords: []uint64{12},
			wantNotices: []string{NoticeBadCursor}, wantMessage: "the cursor of the last round could not be read (event log cursor is not valid",
			wantNext: at12.Encode(),
		},
		"bad cursor and empty log": {
			settings: `{"channel": "System"}`,
			cursor:   `{"record_id": "x"}`,
			wantRead: true, wantChannel: "System",
			wantNotices: []string{NoticeBadCursor}, wantMessage: "; reading the last 24h again",
			wantNext: `{"channel":"System","record_id":0}`,
		},
		"access denied": {
			cursor:   at10.Encode(),
			readErr:  fmt.Errorf("query Security: %w", ErrAccessDenied),
			wantRead: true, wantChannel: "Security", wantCursor: at10, wantNext: at10.Encode(), wantErr: ErrAccessDenied,
		},
		"channel not found": {
			settings: `{"channel": "Nope"}`,
			readErr:  ErrChannelNotFound,
			wantRead: true, wantChannel: "Nope", wantNext: "", wantErr: ErrChannelNotFound,
		},
		"invalid settings": {
			settings: `{"max": 9999}`,
			cursor:   at10.Encode(),
			wantNext: at10.Encode(), wantErr: errSettings,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			reader := &fakeReader{res: tc.res, err: tc.readErr}
			m := Module{Read: reader.read, Now: func() time.Time { return testNow }}
			events, _, next, err := m.CollectEvents(context.Background(), module.Config{Settings: json.RawMessage(tc.settings)}, tc.cursor)

			switch {
			case tc.wantErr == errSettings:
				if err == nil || !strings.HasPrefix(err.Error(), "eventlog ") {
					t.Fatalf("error = %v, want a settings error", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantChannel) {
					t.Fatalf("error = %v, want one wrapping %v and naming %s", err, tc.wantErr, tc.wantChannel)
				}
			case err != nil:
				t.Fatalf("CollectEvents: %v", err)
			}
			if (reader.calls == 1) != tc.wantRead || reader.calls > 1 {
				t.Fatalf("reader called %d times, want read %v", reader.calls, tc.wantRead)
			}
			if tc.wantRead {
				if reader.gotCh != tc.wantChannel || reader.gotCur != tc.wantCursor {
					t.Errorf("reader got channel %q cursor %+v, want %q %+v", reader.gotCh, reader.gotCur, tc.wantChannel, tc.wantCursor)
				}
			}
			if next != tc.wantNext {
				t.Errorf("next cursor = %q, want %q", next, tc.wantNext)
			}
			if tc.wantErr != nil && len(events) != 0 {
				t.Errorf("events on error: %+v", events)
			}
			checkEvents(t, events, tc.wantChannel, tc.wantRecords, tc.wantNotices, tc.wantMessage)
		})
	}
}

// errSettings marks a case expecting a settings error.
var errSettings = errors.New("settings")

// checkEvents checks that events are the wanted records in order, with
// the wanted notices (bad cursor, reset, lost, skipped before the records,
// truncated after them), one of which says message.
func checkEvents(t *testing.T, events []protocol.Event, channel string, records []uint64, notices []string, message string) {
	t.Helper()
	var gotRecords []uint64
	var gotNotices []string
	messageFound := message == ""
	lastRecord := -1
	for i, e := range events {
		if e.Provider != NoticeProvider {
			gotRecords = append(gotRecords, e.RecordID)
			lastRecord = i
			if e.Fields[FieldComputer] != "WIN1" && e.EventID == 4624 {
				t.Errorf("record %d lost its fields in conversion: %+v", e.RecordID, e.Fields)
			}
			continue
		}
		kind := e.Fields[FieldNotice]
		gotNotices = append(gotNotices, kind)
		if e.EventID != NoticeEventID || e.Channel != channel || !e.Time.Equal(testNow) || e.RecordID < noticeRecordBit || e.Level == "" {
			t.Errorf("notice %s is malformed: %+v", kind, e)
		}
		if kind == NoticeTruncated && i != len(events)-1 {
			t.Errorf("truncated notice at %d of %d events, want it last", i, len(events))
		}
		if kind != NoticeTruncated && lastRecord >= 0 {
			t.Errorf("notice %s at %d follows a record: only truncated may", kind, i)
		}
		if strings.Contains(e.Message, message) {
			messageFound = true
		}
	}
	if !slices.Equal(gotRecords, records) {
		t.Errorf("records = %v, want %v", gotRecords, records)
	}
	if !slices.Equal(gotNotices, notices) {
		t.Errorf("notices = %q, want %q", gotNotices, notices)
	}
	if !messageFound {
		t.Errorf("no notice says %q: %+v", message, events)
	}
}

func TestNoticeRecordIDs(t *testing.T) {
	a := noticeRecordID("Security", NoticeTruncated, testNow)
	if a != noticeRecordID("Security", NoticeTruncated, testNow) {
		t.Fatal("notice record id is not stable")
	}
	others := []uint64{
		noticeRecordID("System", NoticeTruncated, testNow),
		noticeRecordID("Security", NoticeLost, testNow),
		noticeRecordID("Security", NoticeTruncated, testNow.Add(time.Millisecond)),
	}
	for _, o := range append(others, a) {
		if o&noticeRecordBit == 0 {
			t.Errorf("notice record id %#x lacks the top bit", o)
		}
	}
	if slices.Contains(others, a) {
		t.Errorf("notice record ids collide: %#x in %#x", a, others)
	}
}

func TestFormatWindow(t *testing.T) {
	tests := map[string]struct {
		d    time.Duration
		want string
	}{
		"hours":   {24 * time.Hour, "24h"},
		"minutes": {90 * time.Minute, "1h30m"},
		"seconds": {90 * time.Second, "1m30s"},
		"mixed":   {time.Hour + 30*time.Second, "1h0m30s"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := formatWindow(tc.d); got != tc.want {
				t.Fatalf("formatWindow(%s) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestModuleIsNamedEventlog(t *testing.T) {
	m := New()
	metrics, err := m.Collect(context.Background(), module.Config{})
	if m.Name() != "eventlog" || metrics != nil || err != nil {
		t.Fatalf("Name %q, Collect = %v, %v", m.Name(), metrics, err)
	}
}
