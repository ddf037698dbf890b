package eventlog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeRecord is one record of a fakeLog.
type fakeRecord struct {
	id       uint64
	eventID  int
	age      time.Duration // before fakeLog.now
	provider string        // default Security-Auditing
	raw      string        // rendered XML instead of the template
	data     string        // extra Data value
}

// fakeLog answers the XPath queries Plan, recordXPath and "*" produce,
// over records in ascending id order, as the event log service would.
type fakeLog struct {
	t       *testing.T
	now     time.Time
	records []fakeRecord
	err     error
	queries []string
}

var fakeQuery = regexp.MustCompile(`^\*\[System\[(?:\(((?:EventID=\d+)(?: or EventID=\d+)*)\) and )?` +
	`(?:EventRecordID=(\d+)|EventRecordID > (\d+)|TimeCreated\[timediff\(@SystemTime\) <= (\d+)\]|` +
	`\(TimeCreated\[@SystemTime >= '([0-9T:.Z-]+)'\] or TimeCreated\[timediff\(@SystemTime\) <= (\d+)\]\))\]\]$`)

func (l *fakeLog) query(ctx context.Context, channel, xpath string, reverse bool, render, count int) ([][]byte, int, error) {
	l.queries = append(l.queries, xpath)
	if l.err != nil {
		return nil, 0, l.err
	}
	if channel != "Security" {
		return nil, 0, fmt.Errorf("open the %s log: %w", channel, ErrChannelNotFound)
	}
	match := func(fakeRecord) bool { return true }
	if xpath != "*" {
		m := fakeQuery.FindStringSubmatch(xpath)
		if m == nil {
			l.t.Fatalf("the fake log cannot run %q", xpath)
		}
		ids := map[int]bool{}
		for _, term := range strings.Split(m[1], " or ") {
			if id, err := strconv.Atoi(strings.TrimPrefix(term, "EventID=")); err == nil {
				ids[id] = true
			}
		}
		eq, _ := strconv.ParseUint(m[2], 10, 64)
		gt, _ := strconv.ParseUint(m[3], 10, 64)
		ms, _ := strconv.ParseInt(m[4]+m[6], 10, 64)
		var since time.Time
		if m[5] != "" {
			var err error
			if since, err = time.Parse("2006-01-02T15:04:05.000Z", m[5]); err != nil {
				l.t.Fatalf("the fake log cannot read the time in %q: %v", xpath, err)
			}
		}
		match = func(r fakeRecord) bool {
			switch {
			case len(ids) > 0 && !ids[r.eventID]:
				return false
			case m[2] != "":
				return r.id == eq
			case m[3] != "":
				return r.id > gt
			case m[5] != "" && !l.now.Add(-r.age).Before(since):
				return true
			}
			return r.age.Milliseconds() <= ms
		}
	}
	var sel []fakeRecord
	for _, r := range l.records {
		if match(r) {
			sel = append(sel, r)
		}
	}
	if reverse {
		slices.Reverse(sel)
	}
	var out [][]byte
	for _, r := range sel[:min(render, len(sel))] {
		out = append(out, []byte(l.render(r)))
	}
	return out, min(count, len(sel)-len(out)), nil
}

func (l *fakeLog) render(r fakeRecord) string {
	if r.raw != "" {
		return r.raw
	}
	provider := cmpOr(r.provider, providerSecurityAuditing)
	return fmt.Sprintf("<Event xmlns='%s'><System><Provider Name='%s'/><EventID>%d</EventID><Level>0</Level>"+
		"<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='%s'/><EventRecordID>%d</EventRecordID>"+
		"<Channel>Security</Channel><Computer>host</Computer></System><EventData><Data Name='Extra'>%s</Data></EventData></Event>",
		eventNamespace, provider, r.eventID, l.now.Add(-r.age).Format(time.RFC3339Nano), r.id, r.data)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// records makes ids from..to, one a minute, the newest (to) a minute old.
func records(from, to uint64, eventID int) []fakeRecord {
	var rs []fakeRecord
	for id := from; id <= to; id++ {
		rs = append(rs, fakeRecord{id: id, eventID: eventID, age: time.Duration(to-id+1) * time.Minute})
	}
	return rs
}

func TestRead(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	timeOf := func(age time.Duration) time.Time { return now.Add(-age) }
	// at is a cursor at record id of records(…, last, …).
	at := func(id, last uint64) Cursor {
		return Cursor{Channel: "Security", RecordID: id, RecordTime: timeOf(time.Duration(last-id+1) * time.Minute)}
	}
	old := func(rs []fakeRecord, age time.Duration) []fakeRecord {
		for i := range rs {
			rs[i].age += age
		}
		return rs
	}
	tests := map[string]struct {
		records     []fakeRecord
		cursor      Cursor
		opts        Options
		wantIDs     []uint64
		wantCursor  uint64
		wantTrunc   int
		wantAtLeast bool
		wantReset   string
		wantLost    uint64
		wantSkipped int
		wantQuery   string // the last query
	}{
		"first round reads the last 24 hours": {
			records:    append(old(records(1, 3, 4624), 30*time.Hour), records(4, 5, 4625)...),
			wantIDs:    []uint64{4, 5},
			wantCursor: 5,
			wantQuery:  "*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]",
		},
		"first round with nothing recent moves to the newest record": {
			records:    old(records(1, 3, 4624), 30*time.Hour),
			wantCursor: 3,
		},
		"first round on an empty log": {},
		"first round capped": {
			records:    records(1, 5, 4624),
			opts:       Options{Max: 2},
			wantIDs:    []uint64{1, 2},
			wantCursor: 2,
			wantTrunc:  3,
		},
		"incremental": {
			records:    records(1, 15, 4624),
			cursor:     at(10, 15),
			wantIDs:    []uint64{11, 12, 13, 14, 15},
			wantCursor: 15,
			wantQuery:  "*[System[EventRecordID > 10]]",
		},
		"incremental with an event id filter moves past the rest": {
			records:    append(records(1, 12, 4624), fakeRecord{id: 13, eventID: 4625, age: time.Second}, fakeRecord{id: 14, eventID: 4634}),
			cursor:     at(10, 12),
			opts:       Options{EventIDs: []int{4625, 4720}},
			wantIDs:    []uint64{13},
			wantCursor: 14,
			wantQuery:  "*[System[(EventID=4625 or EventID=4720) and EventRecordID > 10]]",
		},
		"nothing new": {
			records:    records(1, 10, 4624),
			cursor:     at(10, 10),
			wantCursor: 10,
		},
		"cleared log is read by time from the last record read": {
			records: append([]fakeRecord{{id: 1, eventID: 1102, provider: providerEventlog, age: time.Hour}}, records(2, 3, 4624)...),
			cursor:  at(500, 600),
			wantIDs: []uint64{1, 2, 3}, wantCursor: 3,
			wantReset: "its newest record is 3, the last record read was 500",
			wantQuery: "*[System[(TimeCreated[@SystemTime >= '2026-03-02T10:19:00.000Z'] or TimeCreated[timediff(@SystemTime) <= 86400000])]]",
		},
		"cleared days ago: every record of the new log is read, not only the first window": {
			records: []fakeRecord{
				{id: 1, eventID: 1102, provider: providerEventlog, age: 50 * time.Hour},
				{id: 2, eventID: 4624, age: 49 * time.Hour}, {id: 3, eventID: 4625, age: 30 * time.Hour}, {id: 4, eventID: 4624, age: time.Minute},
			},
			cursor:  Cursor{Channel: "Security", RecordID: 500, RecordTime: timeOf(72 * time.Hour)},
			wantIDs: []uint64{1, 2, 3, 4}, wantCursor: 4,
			wantReset: "its newest record is 4, the last record read was 500",
			wantQuery: "*[System[(TimeCreated[@SystemTime >= '2026-02-27T12:00:00.000Z'] or TimeCreated[timediff(@SystemTime) <= 86400000])]]",
		},
		"cleared and refilled past the cursor days ago": {
			records: old(records(1, 20, 4624), 40*time.Hour),
			cursor:  Cursor{Channel: "Security", RecordID: 10, RecordTime: timeOf(96 * time.Hour)},
			wantIDs: []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, wantCursor: 20,
			wantReset: "cleared and refilled",
		},
		"cleared after the clock was set back: the first window is still read": {
			records: records(1, 3, 4624),
			cursor:  Cursor{Channel: "Security", RecordID: 50, RecordTime: now.Add(6 * time.Hour)},
			wantIDs: []uint64{1, 2, 3}, wantCursor: 3,
			wantReset: "its newest record is 3",
		},
		"cleared, new log capped: the rest follows by record id": {
			records: old(records(1, 5, 4624), 30*time.Hour),
			cursor:  Cursor{Channel: "Security", RecordID: 90, RecordTime: timeOf(48 * time.Hour)},
			opts:    Options{Max: 2},
			wantIDs: []uint64{1, 2}, wantCursor: 2, wantTrunc: 3,
			wantReset: "its newest record is 5",
		},
		"cursor without a time: a cleared log falls back to the first window": {
			records: append(old(records(1, 2, 4624), 30*time.Hour), records(3, 4, 4624)...),
			cursor:  Cursor{Channel: "Security", RecordID: 90},
			wantIDs: []uint64{3, 4}, wantCursor: 4,
			wantReset: "its newest record is 4",
			wantQuery: "*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]",
		},
		"cleared and refilled past the cursor": {
			records: records(1, 20, 4624),
			cursor:  Cursor{Channel: "Security", RecordID: 10, RecordTime: timeOf(48 * time.Hour)},
			wantIDs: []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, wantCursor: 20,
			wantReset: "cleared and refilled",
		},
		"empty log after a clear": {
			cursor:    at(10, 10),
			wantReset: "it is empty",
		},
		"overwritten records are counted as lost": {
			records: records(50, 53, 4624),
			cursor:  at(10, 53),
			wantIDs: []uint64{50, 51, 52, 53}, wantCursor: 53,
			wantLost: 39,
		},
		"cursor of another channel": {
			records: records(1, 3, 4624),
			cursor:  Cursor{Channel: "System", RecordID: 2},
			wantIDs: []uint64{1, 2, 3}, wantCursor: 3,
			wantReset: "the cursor was for the System log",
		},
		"clear event read incrementally is reported": {
			records: append(records(1, 5, 4624), fakeRecord{id: 6, eventID: 1102, provider: providerEventlog}),
			cursor:  Cursor{Channel: "Security", RecordID: 4},
			wantIDs: []uint64{5, 6}, wantCursor: 6,
			wantReset: "the log was cleared at 2026-03-02T12:00:00Z (event 1102, record 6)",
		},
		"unparsable record is skipped and passed": {
			records: append(records(1, 11, 4624), fakeRecord{id: 12, raw: "<Event><System>"}, fakeRecord{id: 13, eventID: 4624}),
			cursor:  at(10, 11),
			wantIDs: []uint64{11, 13}, wantCursor: 13, wantSkipped: 1,
		},
		"unparsable newest record: cursor stays at the last event": {
			records: append(records(1, 11, 4624), fakeRecord{id: 12, raw: "garbage"}),
			cursor:  at(10, 11),
			wantIDs: []uint64{11}, wantCursor: 11, wantSkipped: 1,
		},
		"backlog beyond the count limit": {
			records: records(1, countLimit+5, 4624),
			cursor:  at(1, countLimit+5),
			opts:    Options{Max: 1},
			wantIDs: []uint64{2}, wantCursor: 2,
			wantTrunc: countLimit, wantAtLeast: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			log := &fakeLog{t: t, now: now, records: tc.records}
			res, err := read(context.Background(), log, "Security", tc.cursor, tc.opts)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var ids []uint64
			for _, e := range res.Events {
				ids = append(ids, e.RecordID)
				if e.Channel != "Security" {
					t.Errorf("event %d has channel %q", e.RecordID, e.Channel)
				}
			}
			if !slices.Equal(ids, tc.wantIDs) {
				t.Errorf("events %v, want %v", ids, tc.wantIDs)
			}
			if res.Cursor.RecordID != tc.wantCursor || res.Cursor.Channel != "Security" {
				t.Errorf("cursor %+v, want record %d of Security", res.Cursor, tc.wantCursor)
			}
			if tc.wantCursor != 0 {
				// The cursor's time must be that of its record, or the next
				// round would take the log for cleared.
				for _, r := range tc.records {
					if r.id == tc.wantCursor && r.raw == "" && !res.Cursor.RecordTime.Equal(now.Add(-r.age)) {
						t.Errorf("cursor time %v, want %v", res.Cursor.RecordTime, now.Add(-r.age))
					}
				}
			}
			if res.Truncated != tc.wantTrunc || res.TruncatedAtLeast != tc.wantAtLeast {
				t.Errorf("truncated %d (at least: %v), want %d (%v)", res.Truncated, res.TruncatedAtLeast, tc.wantTrunc, tc.wantAtLeast)
			}
			if res.Reset != (tc.wantReset != "") || !strings.Contains(res.ResetReason, tc.wantReset) {
				t.Errorf("reset %v %q, want reset with %q", res.Reset, res.ResetReason, tc.wantReset)
			}
			if res.Lost != tc.wantLost || res.Skipped != tc.wantSkipped {
				t.Errorf("lost %d, skipped %d; want %d, %d", res.Lost, res.Skipped, tc.wantLost, tc.wantSkipped)
			}
			if tc.wantQuery != "" && log.queries[len(log.queries)-1] != tc.wantQuery {
				t.Errorf("queries %q, want the last to be %q", log.queries, tc.wantQuery)
			}
		})
	}
}

// TestReadRounds runs consecutive rounds over a log that grows, is
// overwritten and is cleared, feeding each round the encoded cursor of the
// previous one as the core does.
func TestReadRounds(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	log := &fakeLog{t: t, now: now, records: append(records(1, 5, 4624), fakeRecord{id: 6, eventID: 4625})}
	opts := Options{Max: 4}
	rounds := []struct {
		before  func()
		wantIDs []uint64
		reset   bool
		lost    uint64
	}{
		{wantIDs: []uint64{1, 2, 3, 4}},
		{wantIDs: []uint64{5, 6}},
		{wantIDs: nil},
		{before: func() { log.records = append(log.records, records(7, 8, 4624)...) }, wantIDs: []uint64{7, 8}},
		{before: func() { log.records = records(20, 21, 4624) }, wantIDs: []uint64{20, 21}, lost: 11},
		{before: func() {
			log.now = log.now.Add(time.Hour)
			log.records = []fakeRecord{{id: 1, eventID: 1102, provider: providerEventlog}}
		}, wantIDs: []uint64{1}, reset: true},
		{before: func() { log.records = append(log.records, records(2, 2, 4720)...) }, wantIDs: []uint64{2}},
		// Cleared again, and the core comes back two days later: the
		// new log's records 1 to 3 are older than the first window.
		{before: func() {
			log.now = log.now.Add(48 * time.Hour)
			log.records = []fakeRecord{
				{id: 1, eventID: 1102, provider: providerEventlog, age: 47 * time.Hour},
				{id: 2, eventID: 4625, age: 46 * time.Hour}, {id: 3, eventID: 4625, age: 25 * time.Hour},
			}
		}, wantIDs: []uint64{1, 2, 3}, reset: true},
		// Ids 1 to 3 again, but past the old cursor's: read on by id.
		{before: func() { log.records = append(log.records, records(4, 5, 4624)...) }, wantIDs: []uint64{4, 5}},
		// Cleared and found empty (a channel whose clear is logged
		// elsewhere); the core comes back two days later.
		{before: func() { log.now = log.now.Add(time.Hour); log.records = nil }, reset: true},
		{before: func() {
			log.now = log.now.Add(48 * time.Hour)
			log.records = []fakeRecord{{id: 1, eventID: 4625, age: 40 * time.Hour}, {id: 2, eventID: 4624, age: time.Hour}}
		}, wantIDs: []uint64{1, 2}},
		{before: func() { log.records = append(log.records, records(3, 3, 4624)...) }, wantIDs: []uint64{3}},
	}
	encoded := ""
	for i, r := range rounds {
		if r.before != nil {
			r.before()
		}
		cursor, err := DecodeCursor(encoded)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		res, err := read(context.Background(), log, "Security", cursor, opts)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		var ids []uint64
		for _, e := range res.Events {
			ids = append(ids, e.RecordID)
		}
		if !slices.Equal(ids, r.wantIDs) || res.Reset != r.reset || res.Lost != r.lost {
			t.Errorf("round %d: events %v, reset %v (%s), lost %d; want %v, %v, %d", i, ids, res.Reset, res.ResetReason, res.Lost, r.wantIDs, r.reset, r.lost)
		}
		encoded = res.Cursor.Encode()
	}
}

func TestReadErrors(t *testing.T) {
	tests := map[string]struct {
		channel string
		opts    Options
		logErr  error
		wantIs  error
		wantErr string
	}{
		"no channel":        {wantErr: "no event log channel given"},
		"bad options":       {channel: "Security", opts: Options{Max: -1}, wantErr: "max -1 is out of range"},
		"access denied":     {channel: "Security", logErr: fmt.Errorf("the account cannot read the Security log: %w", ErrAccessDenied), wantIs: ErrAccessDenied, wantErr: "Event Log Readers"},
		"channel not found": {channel: "Securty", wantIs: ErrChannelNotFound, wantErr: "open the Securty log"},
		"cancelled":         {channel: "Security", logErr: context.Canceled, wantIs: context.Canceled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			log := &fakeLog{t: t, now: time.Now(), err: tc.logErr}
			res, err := read(context.Background(), log, tc.channel, Cursor{}, tc.opts)
			if err == nil {
				t.Fatalf("read = %+v, want an error", res)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want %q in it", err, tc.wantErr)
			}
		})
	}
}

func TestReadRoundBudget(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	rs := records(1, 1200, 4688)
	for i := range rs {
		rs[i].data = strings.Repeat("x", MaxFieldBytes-8) // about 2 KiB per event
	}
	log := &fakeLog{t: t, now: now, records: rs}
	res, err := read(context.Background(), log, "Security", Cursor{Channel: "Security", RecordID: 0}, Options{Max: MaxMax})
	if err != nil {
		t.Fatal(err)
	}
	// 1200 events of ~2.2 KiB fit the 8 MiB budget: all are read.
	if len(res.Events) != 1200 || res.Truncated != 0 {
		t.Fatalf("read %d events, %d truncated; want 1200, 0", len(res.Events), res.Truncated)
	}
	// Make each event as big as the caps allow: the budget stops the round.
	for i := range log.records {
		var b strings.Builder
		for f := range 7 {
			fmt.Fprintf(&b, "%s</Data><Data Name='F%d'>", strings.Repeat("y", MaxFieldBytes), f)
		}
		log.records[i].data = b.String()
	}
	res, err = read(context.Background(), log, "Security", Cursor{}, Options{Max: MaxMax})
	if err != nil {
		t.Fatal(err)
	}
	n := len(res.Events)
	if n == 0 || n >= 1200 || res.Truncated != 1200-n || res.Cursor.RecordID != uint64(n) {
		t.Fatalf("read %d events, %d truncated, cursor %d; want the budget to stop the round", n, res.Truncated, res.Cursor.RecordID)
	}
	size := 0
	for _, e := range res.Events {
		size += approxSize(e)
	}
	if size > roundBudget {
		t.Errorf("events take about %d bytes, more than the budget %d", size, roundBudget)
	}
}

func TestToProtocol(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	e := Event{RecordID: 7, EventID: 4625, Time: at, Level: "audit_failure", Provider: "P", Computer: "HOST",
		Channel: "Security", Message: "m", Data: map[string]string{"TargetUserName": "bob", "computer": "spoofed"}, Truncated: true}
	p := e.ToProtocol()
	if p.Channel != "Security" || p.RecordID != 7 || p.EventID != 4625 || p.Level != "audit_failure" ||
		p.Provider != "P" || p.Message != "m" || !p.Time.Equal(at) || p.Time.Location() != time.UTC {
		t.Errorf("ToProtocol = %+v", p)
	}
	wantFields := map[string]string{"TargetUserName": "bob", FieldComputer: "HOST", FieldTruncated: "true"}
	if fmt.Sprint(p.Fields) != fmt.Sprint(wantFields) {
		t.Errorf("Fields = %v, want %v", p.Fields, wantFields)
	}
	if e.Data["computer"] != "spoofed" {
		t.Error("ToProtocol changed the event's Data")
	}
	if f := (Event{RecordID: 1}).ToProtocol().Fields; f != nil {
		t.Errorf("Fields of a bare event = %v, want nil", f)
	}
}
