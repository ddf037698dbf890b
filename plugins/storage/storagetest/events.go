package storagetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/storage"
)

const (
	// eventsQuery reads every column of events but the fields (see
	// fieldsOf), with the host's address and the collection's round for
	// their ids.
	eventsQuery = `SELECT h.ip, e.channel, e.record_id, c.round_id, e.event_time, e.level, e.provider,
	                      e.event_id, e.computer, e.message
	               FROM events e JOIN hosts h ON h.id = e.host_id LEFT JOIN collections c ON c.id = e.collection_id
	               ORDER BY h.ip, h.port, e.channel, e.record_id, e.event_time`
	// eventsWithFieldsQuery is eventsQuery with the fields as each backend
	// stores them, for comparisons within one backend.
	eventsWithFieldsQuery = `SELECT h.ip, e.channel, e.record_id, c.round_id, e.event_time, e.level, e.provider,
	                                e.event_id, e.computer, e.message, e.fields
	                         FROM events e JOIN hosts h ON h.id = e.host_id LEFT JOIN collections c ON c.id = e.collection_id
	                         ORDER BY h.ip, h.port, e.channel, e.record_id, e.event_time`
)

// mixedRoundEvents and mixedRoundFields are what eventsQuery and fieldsOf
// show for testdata/mixed_round.json. The second event has no time: it
// takes its collection's end.
const (
	mixedRoundEvents = "" +
		"ip=10.0.0.1 channel=auth record_id=1001 round_id=round-0001 event_time=2026-11-25T21:09:58.123Z level=warning provider=sshd " +
		"event_id=0 computer=web-1 message=Failed password for root from 198.51.100.7 port 51234 ssh2 \n" +
		"ip=10.0.0.1 channel=auth record_id=1002 round_id=round-0001 event_time=2026-11-25T21:10:01.456Z level=<nil> provider=sudo " +
		"event_id=0 computer=<nil> message=ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ;\n\tCOMMAND=/usr/bin/true \n"
	mixedRoundFields = "" +
		"10.0.0.1 auth/1001 {note=<&> \"quoted\" é|port=51234|rhost=198.51.100.7|user=root}\n" +
		"10.0.0.1 auth/1002 {}\n"
)

// fieldsOf reads events.fields, which each backend returns as JSON text
// in its own spacing, as "ip channel/record {k=v|k=v}" lines, keys sorted.
func fieldsOf(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT h.ip, e.channel, e.record_id, e.fields
	                       FROM events e JOIN hosts h ON h.id = e.host_id
	                       ORDER BY h.ip, h.port, e.channel, e.record_id, e.event_time`)
	if err != nil {
		t.Fatalf("read event fields: %v", err)
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var (
			ip, channel string
			record      int64
			raw         []byte
		)
		if err := rows.Scan(&ip, &channel, &record, &raw); err != nil {
			t.Fatal(err)
		}
		fields := decodeFields(t, raw)
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			pairs[i] = k + "=" + fields[k]
		}
		fmt.Fprintf(&sb, "%s %s/%d {%s}\n", ip, channel, record, strings.Join(pairs, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// decodeFields reads a fields column: a JSON object of strings.
func decodeFields(t testing.TB, raw []byte) map[string]string {
	t.Helper()
	var fields map[string]string
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		t.Fatalf("event fields are not a JSON object of strings: %q: %v", raw, err)
	}
	return fields
}

func testEvents(t *testing.T, d Database) {
	write(t, open(t, d, ""), mixedRound(t))
	if got := Dump(t, d.SQL, eventsQuery); got != mixedRoundEvents {
		t.Errorf("events:\n%s\nwant\n%s", got, mixedRoundEvents)
	}
	if got := fieldsOf(t, d.SQL); got != mixedRoundFields {
		t.Errorf("event fields:\n%s\nwant\n%s", got, mixedRoundFields)
	}
	// The host and collection ids name the event's host and its round's
	// collection of that host.
	const idsQuery = `SELECT COUNT(*) AS n FROM events e
	                  JOIN collections c ON c.id = e.collection_id AND c.host_id = e.host_id`
	if got := Dump(t, d.SQL, idsQuery); got != "n=2 \n" {
		t.Errorf("events whose collection is their host's: %s; want n=2", got)
	}
}

// securityEvent is a failed logon on a Windows host, record rec of the
// Security log, with text that names where it comes from.
func securityEvent(rec uint64, at time.Time, text string) storage.Event {
	return storage.Event{
		Channel: "Security", RecordID: rec, Time: at, Level: "Information",
		Provider: "Microsoft-Windows-Security-Auditing", EventID: 4625, Computer: "DC-1",
		Message: text, Fields: map[string]string{"TargetUserName": text},
	}
}

func testEventDuplicates(t *testing.T, d Database) {
	s := open(t, d, "")
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	withEvents := func(c storage.Collection, events ...storage.Event) storage.Collection {
		c.Events = events
		return c
	}
	ev := func(rec uint64, text string) storage.Event {
		return securityEvent(rec, t0.Add(time.Duration(rec)*time.Second), text)
	}
	r1 := &storage.Batch{RoundID: "r1", StartedAt: t0, Collections: []storage.Collection{
		withEvents(OKCollection("10.0.0.1", t0, nil), ev(1, "first"), ev(2, "first")),
		// The same record ids on another host are other events.
		withEvents(OKCollection("10.0.0.2", t0, nil), ev(1, "other host")),
	}}
	t1 := t0.Add(time.Minute)
	system2 := ev(2, "other channel")
	system2.Channel = "System"
	r2 := &storage.Batch{RoundID: "r2", StartedAt: t1, Collections: []storage.Collection{
		// The cursor overlaps r1 by one record, which also comes twice.
		withEvents(OKCollection("10.0.0.1", t1, nil), ev(2, "second"), ev(3, "second"), ev(2, "again"), system2),
		// A host listed twice in one batch.
		withEvents(OKCollection("10.0.0.3", t1, nil), ev(5, "listed once")),
		withEvents(OKCollection("10.0.0.3", t1, nil), ev(5, "listed twice"), ev(6, "listed twice")),
	}}
	write(t, s, r1)
	write(t, s, r2)
	const query = `SELECT h.ip, e.channel, e.record_id, c.round_id, e.event_id, e.message
	               FROM events e JOIN hosts h ON h.id = e.host_id LEFT JOIN collections c ON c.id = e.collection_id
	               ORDER BY h.ip, e.channel, e.record_id, e.event_time`
	const want = "" +
		"ip=10.0.0.1 channel=Security record_id=1 round_id=r1 event_id=4625 message=first \n" +
		"ip=10.0.0.1 channel=Security record_id=2 round_id=r1 event_id=4625 message=first \n" +
		"ip=10.0.0.1 channel=Security record_id=3 round_id=r2 event_id=4625 message=second \n" +
		"ip=10.0.0.1 channel=System record_id=2 round_id=r2 event_id=4625 message=other channel \n" +
		"ip=10.0.0.2 channel=Security record_id=1 round_id=r1 event_id=4625 message=other host \n" +
		"ip=10.0.0.3 channel=Security record_id=5 round_id=r2 event_id=4625 message=listed once \n" +
		"ip=10.0.0.3 channel=Security record_id=6 round_id=r2 event_id=4625 message=listed twice \n"
	if got := Dump(t, d.SQL, query); got != want {
		t.Errorf("events after two rounds:\n%s\nwant\n%s", got, want)
	}
	before := Dump(t, d.SQL, eventsWithFieldsQuery)

	// Both rounds again, from the spool and through another core, in the
	// other order.
	write(t, open(t, d, ""), r2)
	write(t, s, r1)
	if got := Dump(t, d.SQL, eventsWithFieldsQuery); got != before {
		t.Errorf("events after replaying both rounds:\n%s\nwant\n%s", got, before)
	}
	if got := fieldsOf(t, d.SQL); !strings.HasPrefix(got, "10.0.0.1 Security/1 {TargetUserName=first}\n10.0.0.1 Security/2 {TargetUserName=first}\n") {
		t.Errorf("event fields:\n%s\nwant those of the first rows stored", got)
	}
}

// testEventRecordReused: after a Windows event log is cleared its record
// ids start again at 1. A record id stored before, with another time, is
// another event and is stored; a record that comes again is not; an event
// without a time is the newest one stored under its record id, or a new
// one at its collection's end.
func testEventRecordReused(t *testing.T, d Database) {
	s := open(t, d, "")
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	batch := func(round string, at time.Time, events ...storage.Event) *storage.Batch {
		c := OKCollection("10.0.0.1", at, nil)
		c.Events = events
		return &storage.Batch{RoundID: round, StartedAt: at, Collections: []storage.Collection{c}}
	}
	before1 := securityEvent(1, t0, "before the clear")
	before2 := securityEvent(2, t0.Add(time.Second), "before the clear")
	after1 := securityEvent(1, t1, "after the clear")
	after1Again := securityEvent(1, t1, "after the clear, again")
	untimed2 := securityEvent(2, time.Time{}, "no time, record 2")
	untimed9 := securityEvent(9, time.Time{}, "no time, record 9")
	rounds := []*storage.Batch{
		batch("r1", t0, before1, before2),
		// The log was cleared: record 1 again, with another time; the
		// read overlaps the previous one by record 2; record 1 twice.
		batch("r2", t1, after1, before2, after1Again),
		batch("r3", t2, untimed2, untimed9),
	}
	for _, b := range rounds {
		write(t, s, b)
	}
	const query = `SELECT e.record_id, e.event_time, c.round_id, e.message
	               FROM events e LEFT JOIN collections c ON c.id = e.collection_id
	               ORDER BY e.record_id, e.event_time`
	const want = "" +
		"record_id=1 event_time=2026-11-26T10:00:00.000Z round_id=r1 message=before the clear \n" +
		"record_id=1 event_time=2026-11-26T11:00:00.000Z round_id=r2 message=after the clear \n" +
		"record_id=2 event_time=2026-11-26T10:00:01.000Z round_id=r1 message=before the clear \n" +
		"record_id=9 event_time=2026-11-26T12:00:01.000Z round_id=r3 message=no time, record 9 \n"
	if got := Dump(t, d.SQL, query); got != want {
		t.Errorf("events:\n%s\nwant\n%s", got, want)
	}
	// Every round again (a spool replay): one row per event still.
	for _, b := range rounds {
		write(t, s, b)
	}
	if got := Dump(t, d.SQL, query); got != want {
		t.Errorf("events after the rounds came again:\n%s\nwant\n%s", got, want)
	}
}

func testEventText(t *testing.T, d Database) {
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	fields := map[string]string{
		"a\ney":  "key with a line break",
		"a big":  strings.Repeat("ü", 3000),
		"a nul":  "x\x00y\x1bz",
		"a tidy": "keeps\ttab and\r\nlines",
	}
	for i := range 300 {
		fields[fmt.Sprintf("f%03d", i)] = fmt.Sprint(i)
	}
	e := storage.Event{
		Channel:  "Sec\x00urity\n",
		RecordID: math.MaxUint64,
		// No time: the collection's end.
		Provider: "evil\x1b[2Jprovider\xff",
		EventID:  -7,
		Computer: strings.Repeat("c", 300),
		Message:  "line1\r\n\tline2 \x07bell \xff\xfe " + strings.Repeat("é", 10000),
		Fields:   fields,
	}
	c := OKCollection("10.0.0.9", at, nil)
	c.Events = []storage.Event{e}
	write(t, open(t, d, ""), &storage.Batch{RoundID: "r", Collections: []storage.Collection{c}})

	const query = `SELECT channel, record_id, event_time, level, provider, event_id, computer FROM events`
	want := "channel=Sec\uFFFDurity\uFFFD record_id=-1 event_time=2026-11-25T22:00:01.000Z level=<nil> " +
		"provider=evil\uFFFD[2Jprovider\uFFFD event_id=-7 computer=" + strings.Repeat("c", 256-len(truncatedMark)) + truncatedMark + " \n"
	if got := Dump(t, d.SQL, query); got != want {
		t.Errorf("event:\n%q\nwant\n%q", got, want)
	}

	var message string
	var raw []byte
	if err := d.SQL.QueryRow(`SELECT message, fields FROM events`).Scan(&message, &raw); err != nil {
		t.Fatal(err)
	}
	const maxMessageBytes = 16 << 10
	if !strings.HasPrefix(message, "line1\r\n\tline2 \uFFFDbell \uFFFD ") || len(message) > maxMessageBytes ||
		len(message) < maxMessageBytes-len(truncatedMark)-2 || !utf8.ValidString(message) || !strings.HasSuffix(message, truncatedMark) {
		t.Errorf("message: %d bytes, valid UTF-8 %v, starts %q; want line breaks and tabs kept, other controls replaced, cut at %d bytes and marked",
			len(message), utf8.ValidString(message), message[:min(len(message), 24)], maxMessageBytes)
	}

	got := decodeFields(t, raw)
	const maxFields, maxValueBytes = 256, 4 << 10
	if len(got) != maxFields {
		t.Errorf("event keeps %d fields; want %d", len(got), maxFields)
	}
	// Sorted by name, the four "a" fields and f000-f250 are kept: 255,
	// and the mark says how many of the 304 were dropped.
	checks := map[string]string{
		truncatedMark: "49 more fields",
		"a\uFFFDey":   "key with a line break",
		"a nul":       "x\uFFFDy\uFFFDz",
		"a tidy":      "keeps\ttab and\r\nlines",
		"f000":        "0",
		"f250":        "250",
	}
	for k, want := range checks {
		if got[k] != want {
			t.Errorf("field %q = %q; want %q", k, got[k], want)
		}
	}
	if _, ok := got["f251"]; ok {
		t.Error("field f251 is kept; want it dropped past the limit")
	}
	if big := got["a big"]; len(big) > maxValueBytes || len(big) < maxValueBytes-len(truncatedMark)-2 || !strings.HasSuffix(big, truncatedMark) {
		t.Errorf("a 6000-byte field value is stored with %d bytes; want it cut at %d and marked", len(big), maxValueBytes)
	}
}

// truncatedMark ends a value the backend cut.
const truncatedMark = "…(truncated)"

func testPruneEvents(t *testing.T, d Database) {
	ctx := context.Background()
	s := open(t, d, "")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cutoff := now.Add(-48 * time.Hour)
	old, recent := now.Add(-10*24*time.Hour), now.Add(-time.Hour)
	c1Old := OKCollection("10.0.0.1", old, nil)
	// An old collection that brought an event logged recently (a host
	// whose clock was wrong): the event outlives its collection.
	c1Old.Events = []storage.Event{securityEvent(1, old, "old"), securityEvent(2, recent, "recent, old round")}
	c1New := OKCollection("10.0.0.1", recent, nil)
	// Record 1 again, the log cleared since: only the old one goes.
	c1New.Events = []storage.Event{securityEvent(3, cutoff, "at the cutoff"), securityEvent(4, cutoff.Add(-time.Millisecond), "just before"),
		securityEvent(1, recent, "reused after a clear")}
	c2 := OKCollection("10.0.0.2", recent, nil)
	c2.Events = []storage.Event{securityEvent(1, now.Add(-5*24*time.Hour), "old, recent round")}
	write(t, s, &storage.Batch{RoundID: "old", StartedAt: old, Collections: []storage.Collection{c1Old}})
	write(t, s, &storage.Batch{RoundID: "new", StartedAt: recent, Collections: []storage.Collection{c1New, c2}})

	p := pruner(t, s)
	got, err := p.PruneAll(ctx, cutoff)
	if err != nil || got.Collections != 1 || got.Events != 3 {
		t.Errorf("PruneAll = %d collections, %d events, %v; want 1, 3, nil", got.Collections, got.Events, err)
	}
	const query = `SELECT h.ip, e.record_id, c.round_id, e.message
	               FROM events e JOIN hosts h ON h.id = e.host_id LEFT JOIN collections c ON c.id = e.collection_id
	               ORDER BY h.ip, e.record_id, e.event_time`
	const want = "" +
		"ip=10.0.0.1 record_id=1 round_id=new message=reused after a clear \n" +
		"ip=10.0.0.1 record_id=2 round_id=<nil> message=recent, old round \n" +
		"ip=10.0.0.1 record_id=3 round_id=new message=at the cutoff \n"
	if got := Dump(t, d.SQL, query); got != want {
		t.Errorf("events after PruneAll:\n%s\nwant\n%s", got, want)
	}
	if got := Dump(t, d.SQL, `SELECT COUNT(*) AS n FROM events WHERE collection_id IS NULL AND record_id <> 2`); got != "n=0 \n" {
		t.Errorf("events that lost their collection: %s; want only record 2's", got)
	}

	got, err = p.PruneAll(ctx, cutoff)
	if err != nil || got.Total() != 0 {
		t.Errorf("second PruneAll = %+v, %v; want nothing deleted", got, err)
	}
	// Prune, which counts collections only, prunes events too.
	if n, err := pruneCollections(ctx, t, s, now); err != nil || n != 0 {
		t.Errorf("Prune(now) = %d, %v; want 0 collections (each host's latest ok is kept), nil", n, err)
	}
	if n := Count(t, d.SQL, "events"); n != 0 {
		t.Errorf("events = %d after Prune(now); want 0", n)
	}
}

// withEvents adds to every collection of b the Security events first to
// first+n-1, record r logged r seconds after the start of the day of the
// batch: a record that comes again in another round has its time.
func withEvents(b *storage.Batch, first uint64, n int) *storage.Batch {
	day := b.StartedAt.UTC().Truncate(24 * time.Hour)
	for i := range b.Collections {
		for r := first; r < first+uint64(n); r++ {
			b.Collections[i].Events = append(b.Collections[i].Events, securityEvent(r, day.Add(time.Duration(r)*time.Second), "event"))
		}
	}
	return b
}
