package state

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/rate"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// setHostRows stores, through db's own writes, a platform, an "auth"
// cursor and counters for h, all marked mark (the platform's UID, the
// cursor, the counter's total).
func setHostRows(t *testing.T, db *DB, h HostKey, mark int) {
	t.Helper()
	ctx, m := t.Context(), strconv.Itoa(mark)
	mustDo(t, db.SetPlatform(ctx, h.IP, h.Port, "ops", transport.Platform{OS: "linux", Arch: "amd64", UID: m, RemoteDir: "/tmp/cscs-" + m}))
	mustDo(t, db.SetCursor(ctx, h.IP, h.Port, "auth", m))
	mustDo(t, db.SetRoundCounters(ctx, []HostCounters{{IP: h.IP, Port: h.Port, Counters: map[string]rate.Counter{"net.rx": {Total: float64(mark)}}}}))
}

// hostMarks are the marks db's Platform, Cursor and Counters give of a
// host's rows (see setHostRows): 0 for none found, -1 for an error.
type hostMarks [3]int

// same is the marks of a host whose three rows are marked m.
func same(m int) hostMarks { return hostMarks{m, m, m} }

// lookupHost returns the marks db's lookups give of h.
func lookupHost(ctx context.Context, db *DB, h HostKey) hostMarks {
	var out hostMarks
	if p, ok, err := db.Platform(ctx, h.IP, h.Port, "ops"); err != nil {
		out[0] = -1
	} else if ok {
		out[0], _ = strconv.Atoi(p.UID)
	}
	if c, ok, err := db.Cursor(ctx, h.IP, h.Port, "auth"); err != nil {
		out[1] = -1
	} else if ok {
		out[1], _ = strconv.Atoi(c)
	}
	if c, ok, err := db.Counters(ctx, h.IP, h.Port); err != nil {
		out[2] = -1
	} else if ok {
		out[2] = int(c["net.rx"].Total)
	}
	return out
}

// wholeTablesRead reports which of db's snapshots (platforms, cursors,
// counters) started reading their whole table.
func wholeTablesRead(db *DB) [3]bool {
	return [3]bool{wholeTableRead(&db.platforms), wholeTableRead(&db.cursors), wholeTableRead(&db.counters)}
}

func wholeTableRead[K comparable, V any](s *snapshot[K, V]) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// TestPrefetchHosts: after PrefetchHosts, Platform, Cursor and Counters
// answer a prefetched host from memory, without reading the whole tables
// — what was stored before, nothing another handle writes after, a row
// never stored is not found — even with the database gone; the DB's own
// SetPlatform, SetCursor, SetRoundCounters and CommitRound are seen, a
// refused CommitRound is not; a host not prefetched is read from the
// database at its first lookup, another handle's write after the prefetch
// included, and kept current by the DB's writes; a second call reads
// afresh.
func TestPrefetchHosts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		target := e.target(t)
		round, other := e.open(t, target, Options{}), e.open(t, target, Options{})
		h1, h2, h3, h4 := HostKey{"10.0.0.1", 22}, HostKey{"10.0.0.2", 2222}, HostKey{"10.0.0.3", 22}, HostKey{"10.0.0.4", 22}
		setHostRows(t, other, h1, 1)
		setHostRows(t, other, h2, 2)
		setHostRows(t, other, h3, 3)
		setHostRows(t, other, HostKey{"10.0.0.2", 22}, 9) // another port: another host
		mustDo(t, round.PrefetchHosts(ctx, []HostKey{h1, h2, h4, h1}))

		// Another handle's writes after the prefetch are not seen for the
		// prefetched hosts.
		setHostRows(t, other, h1, 11)
		setHostRows(t, other, h3, 13)
		setHostRows(t, other, h4, 14)

		// The round's own writes are.
		setHostRows(t, round, h2, 22)
		mustDo(t, round.CommitRound(ctx, nil, nil, []Cursor{{HostIP: h1.IP, HostPort: h1.Port, Channel: "Security", Cursor: "s1"}}))
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		noRecipient := Queued{N: notifier.Notification{ID: "x", Kind: "alert", Subject: "s", Body: "b", CreatedAt: now}, DueAt: now}
		if err := round.CommitRound(ctx, []Queued{noRecipient}, nil, []Cursor{{HostIP: h4.IP, HostPort: h4.Port, Channel: "auth", Cursor: "99"}}); err == nil {
			t.Fatal("CommitRound of a mail without recipient succeeded")
		}

		check := func(when string, db *DB, wants map[HostKey]hostMarks) {
			t.Helper()
			for h, want := range wants {
				if got := lookupHost(ctx, db, h); got != want {
					t.Errorf("%s: %v: platform, cursor, counters marked %v; want %v", when, h, got, want)
				}
			}
		}
		prefetched := map[HostKey]hostMarks{h1: same(1), h2: same(22), h4: same(0)}
		check("prefetched", round, prefetched)
		if c, ok, err := round.Cursor(ctx, h1.IP, h1.Port, "Security"); err != nil || !ok || c != "s1" {
			t.Errorf("cursor committed by the round = %q, %v, %v; want s1", c, ok, err)
		}
		if read := wholeTablesRead(round); read != [3]bool{} {
			t.Fatalf("lookups and writes of prefetched hosts read whole tables (platforms, cursors, counters): %v", read)
		}

		// A host not prefetched: the whole table, read now, kept current
		// by the round's writes and not by another handle's.
		check("not prefetched", round, map[HostKey]hostMarks{h3: same(13)})
		if read := wholeTablesRead(round); read != [3]bool{true, true, true} {
			t.Errorf("a lookup of a host not prefetched did not read whole tables: %v", read)
		}
		setHostRows(t, round, h3, 23)
		setHostRows(t, other, h3, 33)
		check("not prefetched, written", round, map[HostKey]hostMarks{h3: same(23)})
		check("prefetched, after the whole tables", round, prefetched)

		// A second call reads afresh.
		mustDo(t, round.PrefetchHosts(ctx, []HostKey{h1}))
		check("prefetched again", round, map[HostKey]hostMarks{h1: same(11), h4: same(0)})

		// Prefetched hosts need no database at all; others do.
		third := e.open(t, target, Options{})
		mustDo(t, third.PrefetchHosts(ctx, []HostKey{h1, h4}))
		if err := third.db.raw.Close(); err != nil {
			t.Fatal(err)
		}
		check("database closed", third, map[HostKey]hostMarks{h1: same(11), h4: same(14), h3: same(-1)})
	})
}

// TestPrefetchHostsFallsBack: more hosts than one query names are all
// read; a prefetch refused (an invalid host) or failing (a cancelled
// context) keeps no host, whose lookups then read the whole tables; a
// table that cannot be read is not kept while the others are.
func TestPrefetchHostsFallsBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		target := e.target(t)
		other := e.open(t, target, Options{})
		hosts := make([]HostKey, 2*hostsPerStatement+3)
		var platforms, cursors, counters []string // one statement each
		for i := range hosts {
			hosts[i] = HostKey{IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), Port: 22}
			if i%3 == 0 {
				platforms = append(platforms, fmt.Sprintf("('%s', 22, 'ops', 'linux', 'amd64', '%d', '/tmp/x', 'x')", hosts[i].IP, i))
				cursors = append(cursors, fmt.Sprintf("('%s', 22, 'auth', '%d', 'x')", hosts[i].IP, i))
				counters = append(counters, fmt.Sprintf(`('%s', 22, '{"net.rx": {"total": %d, "at": "2026-12-07T10:00:00Z"}}', 'x')`, hosts[i].IP, i))
			}
		}
		for _, insert := range []string{
			`INSERT INTO host_platforms (host_ip, host_port, login_user, os, arch, uid, remote_dir, detected_at) VALUES ` + strings.Join(platforms, ", "),
			`INSERT INTO event_cursors (host_ip, host_port, channel, cursor, updated_at) VALUES ` + strings.Join(cursors, ", "),
			`INSERT INTO host_counters (host_ip, host_port, counters, updated_at) VALUES ` + strings.Join(counters, ", "),
		} {
			if _, err := other.db.Exec(insert); err != nil {
				t.Fatal(err)
			}
		}

		round := e.open(t, target, Options{})
		mustDo(t, round.PrefetchHosts(ctx, hosts))
		setHostRows(t, other, hosts[0], 1000) // not seen: prefetched
		setHostRows(t, other, hosts[1], 1001) // not seen: prefetched without rows
		for i, h := range hosts {
			want := same(0)
			if i%3 == 0 {
				want = same(i)
			}
			if got := lookupHost(ctx, round, h); got != want {
				t.Fatalf("host %d (%v): marked %v; want %v", i, h, got, want)
			}
		}
		if read := wholeTablesRead(round); read != [3]bool{} {
			t.Errorf("lookups of prefetched hosts read whole tables: %v", read)
		}

		refused := e.open(t, target, Options{})
		if err := refused.PrefetchHosts(ctx, []HostKey{hosts[3], {IP: "", Port: 22}}); err == nil {
			t.Fatal("PrefetchHosts of a host without IP succeeded")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		failed := e.open(t, target, Options{})
		if err := failed.PrefetchHosts(cancelled, []HostKey{hosts[3]}); err == nil {
			t.Fatal("PrefetchHosts with a cancelled context succeeded")
		}
		setHostRows(t, other, hosts[3], 1003) // seen: nothing kept, read at the first lookup
		for name, db := range map[string]*DB{"refused": refused, "failed": failed} {
			if got := lookupHost(ctx, db, hosts[3]); got != same(1003) {
				t.Errorf("after a %s prefetch: marked %v; want %v, read from the database", name, got, same(1003))
			}
		}

		// One table that cannot be read: the others are kept.
		if _, err := other.db.Exec(`ALTER TABLE host_counters RENAME TO host_counters_away`); err != nil {
			t.Fatal(err)
		}
		partial := e.open(t, target, Options{})
		err := partial.PrefetchHosts(ctx, []HostKey{hosts[6]})
		if _, rerr := other.db.Exec(`ALTER TABLE host_counters_away RENAME TO host_counters`); rerr != nil {
			t.Fatal(rerr)
		}
		if err == nil || !strings.Contains(err.Error(), "host counters") {
			t.Fatalf("PrefetchHosts without a counters table: %v; want an error naming the counters", err)
		}
		setHostRows(t, other, hosts[6], 1006)
		if got, want := lookupHost(ctx, partial, hosts[6]), (hostMarks{6, 6, 1006}); got != want {
			t.Errorf("after a prefetch that read no counters: marked %v; want %v", got, want)
		}
		if read := wholeTablesRead(partial); read != [3]bool{false, false, true} {
			t.Errorf("whole tables read after a prefetch that read no counters: %v; want the counters only", read)
		}
	})
}
