package eventlog

import (
	"strings"
	"testing"
	"time"
)

func TestPlan(t *testing.T) {
	at := Cursor{Channel: "Security", RecordID: 48213}
	tests := map[string]struct {
		cursor    Cursor
		opts      Options
		wantXPath string
		wantMax   int
		wantFirst bool
	}{
		"first round, defaults": {
			wantXPath: "*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]",
			wantMax:   DefaultMax, wantFirst: true,
		},
		"first round, one hour, event ids sorted and deduplicated": {
			opts:      Options{FirstWindow: time.Hour, EventIDs: []int{4625, 4624, 4625}, Max: 50},
			wantXPath: "*[System[(EventID=4624 or EventID=4625) and TimeCreated[timediff(@SystemTime) <= 3600000]]]",
			wantMax:   50, wantFirst: true,
		},
		"later round": {
			cursor:    at,
			wantXPath: "*[System[EventRecordID > 48213]]",
			wantMax:   DefaultMax,
		},
		"later round with one event id": {
			cursor:    at,
			opts:      Options{EventIDs: []int{1102}},
			wantXPath: "*[System[(EventID=1102) and EventRecordID > 48213]]",
			wantMax:   DefaultMax,
		},
		"out-of-range options are clamped": {
			cursor:    at,
			opts:      Options{Max: 1 << 20, EventIDs: []int{-1, 70000, 4720}},
			wantXPath: "*[System[(EventID=4720) and EventRecordID > 48213]]",
			wantMax:   MaxMax,
		},
		"window below a millisecond": {
			opts:      Options{FirstWindow: time.Microsecond},
			wantXPath: "*[System[TimeCreated[timediff(@SystemTime) <= 1]]]",
			wantMax:   DefaultMax, wantFirst: true,
		},
		"cursor without position is a first round": {
			cursor:    Cursor{Channel: "Security"},
			opts:      Options{FirstWindow: 2 * time.Hour},
			wantXPath: "*[System[TimeCreated[timediff(@SystemTime) <= 7200000]]]",
			wantMax:   DefaultMax, wantFirst: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Plan(tc.cursor, tc.opts)
			want := Query{XPath: tc.wantXPath, Max: tc.wantMax, First: tc.wantFirst}
			if got != want {
				t.Errorf("Plan = %+v, want %+v", got, want)
			}
		})
	}
}

func TestPlanAfterAClear(t *testing.T) {
	since := time.Date(2026, 3, 2, 8, 15, 30, 987654321, time.FixedZone("CET", 3600))
	tests := map[string]struct {
		since     time.Time
		opts      Options
		wantXPath string
	}{
		"from the last record read, to the millisecond, in UTC": {
			since:     since,
			wantXPath: "*[System[(TimeCreated[@SystemTime >= '2026-03-02T07:15:30.987Z'] or TimeCreated[timediff(@SystemTime) <= 86400000])]]",
		},
		"with event ids and a first window": {
			since: since, opts: Options{EventIDs: []int{4625, 1102}, FirstWindow: time.Hour, Max: 10},
			wantXPath: "*[System[(EventID=1102 or EventID=4625) and " +
				"(TimeCreated[@SystemTime >= '2026-03-02T07:15:30.987Z'] or TimeCreated[timediff(@SystemTime) <= 3600000])]]",
		},
		"no time known: a first round": {
			wantXPath: "*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Plan(Cursor{Channel: "Security", RecordTime: tc.since}, tc.opts)
			want := Query{XPath: tc.wantXPath, Max: tc.opts.clamped().Max, First: true}
			if got != want {
				t.Errorf("Plan = %+v, want %+v", got, want)
			}
		})
	}
}

func TestPlanManyEventIDsStaysBelowTwentyExpressions(t *testing.T) {
	ids := make([]int, 40)
	for i := range ids {
		ids[i] = 4600 + i
	}
	// Windows takes at most 20 expressions in a plain XPath query.
	for _, q := range []Query{Plan(Cursor{RecordID: 1}, Options{EventIDs: ids}), Plan(Cursor{RecordTime: time.Now()}, Options{EventIDs: ids})} {
		if n := strings.Count(q.XPath, "EventID=") + strings.Count(q.XPath, "EventRecordID") + strings.Count(q.XPath, "TimeCreated"); n > 20 {
			t.Errorf("%d expressions: %s", n, q.XPath)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := map[string]struct {
		opts    Options
		wantErr string
	}{
		"zero":              {},
		"all set":           {opts: Options{FirstWindow: time.Hour, EventIDs: []int{0, 65535}, Max: MaxMax}},
		"negative window":   {opts: Options{FirstWindow: -time.Second}, wantErr: "first window -1s is out of range"},
		"window too long":   {opts: Options{FirstWindow: MaxFirstWindow + time.Hour}, wantErr: "first window"},
		"negative max":      {opts: Options{Max: -1}, wantErr: "max -1 is out of range"},
		"max too large":     {opts: Options{Max: MaxMax + 1}, wantErr: "max 5001"},
		"event id too big":  {opts: Options{EventIDs: []int{65536}}, wantErr: "event id 65536"},
		"too many ids":      {opts: Options{EventIDs: make([]int, MaxEventIDs+1)}, wantErr: "17 event ids listed"},
		"negative event id": {opts: Options{EventIDs: []int{-4}}, wantErr: "event id -4"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

func TestCursorEncoding(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 14, 27, 391826500, time.UTC)
	tests := map[string]struct {
		cursor      Cursor
		wantEncoded string
	}{
		"zero":           {wantEncoded: ""},
		"channel only":   {cursor: Cursor{Channel: "Security"}, wantEncoded: ""},
		"position":       {cursor: Cursor{Channel: "Security", RecordID: 48213, RecordTime: at}, wantEncoded: `{"channel":"Security","record_id":48213,"record_time":"2026-03-02T08:14:27.3918265Z"}`},
		"position, time": {cursor: Cursor{Channel: "System", RecordID: 7}, wantEncoded: `{"channel":"System","record_id":7}`},
		// A log found cleared and empty: no position, the last record's time.
		"time only": {cursor: Cursor{Channel: "Security", RecordTime: at}, wantEncoded: `{"channel":"Security","record_id":0,"record_time":"2026-03-02T08:14:27.3918265Z"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			enc := tc.cursor.Encode()
			if enc != tc.wantEncoded {
				t.Fatalf("Encode = %s, want %s", enc, tc.wantEncoded)
			}
			dec, err := DecodeCursor(enc)
			if err != nil {
				t.Fatalf("DecodeCursor: %v", err)
			}
			if dec.RecordID != tc.cursor.RecordID || !dec.RecordTime.Equal(tc.cursor.RecordTime) ||
				(enc != "" && dec.Channel != tc.cursor.Channel) {
				t.Errorf("DecodeCursor(Encode(c)) = %+v, want %+v", dec, tc.cursor)
			}
		})
	}
}

func TestDecodeCursorErrors(t *testing.T) {
	tests := map[string]struct {
		in      string
		wantErr string
	}{
		"not json":     {in: "48213", wantErr: "cannot unmarshal number"},
		"garbage":      {in: "{", wantErr: "event log cursor is not valid"},
		"too long":     {in: `{"channel":"` + strings.Repeat("x", 2000) + `"}`, wantErr: "more than 1024"},
		"long channel": {in: `{"channel":"` + strings.Repeat("x", 300) + `"}`, wantErr: "longer than 256"},
		"negative id":  {in: `{"record_id":-1}`, wantErr: "event log cursor is not valid"},
		"bad time":     {in: `{"record_id":1,"record_time":"soon"}`, wantErr: "event log cursor is not valid"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := DecodeCursor(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("DecodeCursor = %+v, %v; want an error with %q", c, err, tc.wantErr)
			}
		})
	}
}

func TestAdvance(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	ev := func(id uint64) Event { return Event{RecordID: id, Time: t0.Add(time.Duration(id) * time.Second)} }
	pos := func(id uint64) Cursor {
		return Cursor{Channel: "Security", RecordID: id, RecordTime: t0.Add(time.Duration(id) * time.Second)}
	}
	tests := map[string]struct {
		cursor   Cursor
		events   []Event
		newest   Cursor
		complete bool
		want     Cursor
	}{
		"to the last event": {
			cursor: pos(10), events: []Event{ev(11), ev(12)}, newest: pos(12), complete: true, want: pos(12),
		},
		"complete round skips records that did not match": {
			cursor: pos(10), events: []Event{ev(11)}, newest: pos(15), complete: true, want: pos(15),
		},
		"truncated round stops at the last event": {
			cursor: pos(10), events: []Event{ev(11), ev(12)}, newest: pos(40), complete: false, want: pos(12),
		},
		"first round without events moves to newest": {
			cursor: Cursor{Channel: "Security"}, newest: pos(99), complete: true, want: pos(99),
		},
		"unknown newest keeps the cursor": {
			cursor: pos(10), complete: true, want: pos(10),
		},
		"never moves back": {
			cursor: pos(10), events: []Event{ev(3)}, newest: pos(8), complete: true, want: pos(10),
		},
		"events newer than the probe": {
			cursor: pos(10), events: []Event{ev(11), ev(13)}, newest: pos(12), complete: true, want: pos(13),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Advance(tc.cursor, tc.events, tc.newest, tc.complete)
			if got.Channel != tc.want.Channel || got.RecordID != tc.want.RecordID || !got.RecordTime.Equal(tc.want.RecordTime) {
				t.Errorf("Advance = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCheckCursor(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pos := func(id uint64, at time.Time) Cursor { return Cursor{Channel: "Security", RecordID: id, RecordTime: at} }
	cur := pos(500, t0)
	tests := map[string]struct {
		cursor    Cursor
		channel   string
		state     logState
		wantReset string // substring of the reason; "" means no reset
		// wantCleared: the reset is a cleared log, read from the cursor's time.
		wantCleared bool
		wantLost    uint64
	}{
		"no cursor": {
			cursor: Cursor{}, channel: "Security", state: logState{newestKnown: true},
		},
		"record still there with its time": {
			cursor: cur, channel: "Security",
			state: logState{newest: pos(900, t0), newestKnown: true, anchor: pos(500, t0), anchorFound: true},
		},
		"channel names ignore case": {
			cursor: cur, channel: "security",
			state: logState{newest: pos(900, t0), newestKnown: true, anchor: pos(500, t0), anchorFound: true},
		},
		"cursor for another channel": {
			cursor: cur, channel: "System", state: logState{newest: pos(900, t0), newestKnown: true},
			wantReset: "the cursor was for the Security log, not System",
		},
		"newest below the cursor": {
			cursor: cur, channel: "Security", state: logState{newest: pos(12, t0), newestKnown: true},
			wantCleared: true, wantReset: "its newest record is 12, the last record read was 500",
		},
		"log empty": {
			cursor: cur, channel: "Security", state: logState{newestKnown: true},
			wantCleared: true, wantReset: "it is empty",
		},
		"cleared and refilled": {
			cursor: cur, channel: "Security",
			state:       logState{newest: pos(900, t0), newestKnown: true, anchor: pos(500, t0.Add(time.Hour)), anchorFound: true},
			wantCleared: true, wantReset: "cleared and refilled: record 500 is now from 2026-03-02T09:00:00Z",
		},
		"record unparsable: keep going": {
			cursor: cur, channel: "Security",
			state: logState{newest: pos(900, t0), newestKnown: true, anchorFound: true},
		},
		"cursor without time cannot tell a refill": {
			cursor: pos(500, time.Time{}), channel: "Security",
			state: logState{newest: pos(900, t0), newestKnown: true, anchor: pos(500, t0.Add(time.Hour)), anchorFound: true},
		},
		"overwritten past the cursor": {
			cursor: cur, channel: "Security",
			state:    logState{newest: pos(900, t0), newestKnown: true, oldest: pos(600, t0), oldestKnown: true},
			wantLost: 99,
		},
		"oldest right after the cursor": {
			cursor: cur, channel: "Security",
			state: logState{newest: pos(900, t0), newestKnown: true, oldest: pos(501, t0), oldestKnown: true},
		},
		"record gone inside the log": {
			cursor: cur, channel: "Security",
			state:       logState{newest: pos(900, t0), newestKnown: true, oldest: pos(1, t0), oldestKnown: true},
			wantCleared: true, wantReset: "record 500 is gone",
		},
		"nothing known": {
			cursor: cur, channel: "Security",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := checkCursor(tc.cursor, tc.channel, tc.state)
			if v.reset != (tc.wantReset != "") || !strings.Contains(v.reason, tc.wantReset) || v.lost != tc.wantLost {
				t.Errorf("checkCursor = %+v, want reset with %q, lost %d", v, tc.wantReset, tc.wantLost)
			}
			// A cleared log is read on from the last record read's time.
			wantSince := time.Time{}
			if tc.wantCleared {
				wantSince = tc.cursor.RecordTime
			}
			if v.cleared != tc.wantCleared || !v.since.Equal(wantSince) {
				t.Errorf("checkCursor: cleared %v since %v, want %v since %v", v.cleared, v.since, tc.wantCleared, wantSince)
			}
		})
	}
}
