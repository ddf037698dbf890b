package state

import (
	"fmt"
	"strings"
	"testing"
)

// benchFleet is how many hosts' platforms, cursors and counters the state
// of BenchmarkHostLookups holds.
const benchFleet = 10_000

// BenchmarkHostLookups is the lookups of a round's hosts (Platform, Cursor
// and Counters of each) on a state holding the rows of benchFleet hosts,
// on each engine: a round of 50 (a chunk of a cluster's interval) and one
// of every host, reading the whole tables at the first lookup or
// prefetching its hosts (PrefetchHosts). Each round has a new DB, as a
// round opens the state, on the same connections (Open's cost is the same
// for both).
func BenchmarkHostLookups(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, e engine) {
		base := openTest(b, e, Options{})
		hosts := make([]HostKey, benchFleet)
		for i := range hosts {
			hosts[i] = HostKey{IP: fmt.Sprintf("10.%d.%d.%d", i/62500, i/250%250, i%250+1), Port: 22}
		}
		fillHostRows(b, base, hosts)
		for _, n := range []int{50, benchFleet} {
			for _, prefetch := range []bool{false, true} {
				name := fmt.Sprintf("round=%d/whole tables", n)
				if prefetch {
					name = fmt.Sprintf("round=%d/prefetch", n)
				}
				b.Run(name, func(b *testing.B) {
					for i := range b.N {
						start := i * n % benchFleet
						lookupRound(b, &DB{db: base.db, pg: base.pg, keep: base.keep}, hosts[start:start+n], prefetch)
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/host")
				})
			}
		}
	})
}

// lookupRound looks up the platform, cursor and counters of every host on
// db, as a round's collectors do, after PrefetchHosts when prefetch is set.
func lookupRound(b *testing.B, db *DB, hosts []HostKey, prefetch bool) {
	ctx := b.Context()
	if prefetch {
		if err := db.PrefetchHosts(ctx, hosts); err != nil {
			b.Fatal(err)
		}
	}
	for _, h := range hosts {
		if _, ok, err := db.Platform(ctx, h.IP, h.Port, "ops"); err != nil || !ok {
			b.Fatalf("Platform of %v: %v, %v", h, ok, err)
		}
		if _, ok, err := db.Cursor(ctx, h.IP, h.Port, "auth"); err != nil || !ok {
			b.Fatalf("Cursor of %v: %v, %v", h, ok, err)
		}
		if _, ok, err := db.Counters(ctx, h.IP, h.Port); err != nil || !ok {
			b.Fatalf("Counters of %v: %v, %v", h, ok, err)
		}
	}
}

// fillHostRows stores a platform, an "auth" cursor and the counters of two
// network interfaces for each of hosts, 200 rows a statement.
func fillHostRows(b *testing.B, db *DB, hosts []HostKey) {
	const perInsert = 200
	counters := `{` + strings.Join([]string{
		`"net.rx_bytes_per_second{interface=\"eth0\"}": {"total": 123456789012, "at": "2026-12-07T10:00:00Z", "boot": "2026-11-01T00:00:00Z"}`,
		`"net.tx_bytes_per_second{interface=\"eth0\"}": {"total": 987654321, "at": "2026-12-07T10:00:00Z", "boot": "2026-11-01T00:00:00Z"}`,
		`"net.rx_bytes_per_second{interface=\"lo\"}": {"total": 4567890, "at": "2026-12-07T10:00:00Z", "boot": "2026-11-01T00:00:00Z"}`,
		`"net.tx_bytes_per_second{interface=\"lo\"}": {"total": 4567890, "at": "2026-12-07T10:00:00Z", "boot": "2026-11-01T00:00:00Z"}`,
	}, ", ") + `}`
	tables := []struct {
		insert string
		row    string // placeholders of one row
		args   func(h HostKey) []any
	}{
		{`INSERT INTO host_platforms (host_ip, host_port, login_user, os, arch, uid, remote_dir, shell, detected_at) VALUES `,
			"(?, ?, 'ops', 'linux', 'amd64', '1000', '/tmp/cscs-1000', 'posix', 'x')",
			func(h HostKey) []any { return []any{h.IP, h.Port} }},
		{`INSERT INTO event_cursors (host_ip, host_port, channel, cursor, updated_at) VALUES `,
			"(?, ?, 'auth', 's=0123456789abcdef0123456789abcdef;i=1a2b3c;b=0123456789abcdef0123456789abcdef;m=12345678;t=5f0123456789a;x=0123456789abcdef', 'x')",
			func(h HostKey) []any { return []any{h.IP, h.Port} }},
		{`INSERT INTO host_counters (host_ip, host_port, counters, updated_at) VALUES `,
			"(?, ?, ?, 'x')",
			func(h HostKey) []any { return []any{h.IP, h.Port, counters} }},
	}
	ctx := b.Context()
	err := db.inTx(ctx, func(tx *txn) error {
		for _, t := range tables {
			for rest := hosts; len(rest) > 0; {
				batch := rest[:min(len(rest), perInsert)]
				rest = rest[len(batch):]
				rows := make([]string, len(batch))
				var args []any
				for i, h := range batch {
					rows[i] = t.row
					args = append(args, t.args(h)...)
				}
				if _, err := tx.ExecContext(ctx, t.insert+strings.Join(rows, ", "), args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
