package state

import (
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// valuesByMetric returns how many values each metric of a host holds, by
// metric, read from the table itself (readers see at most KeepValues).
func valuesByMetric(t *testing.T, db *DB, ip string) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := eachRow(t.Context(), db.db, func(rows *sql.Rows) error {
		var (
			metric string
			n      int
		)
		if err := rows.Scan(&metric, &n); err != nil {
			return err
		}
		out[metric] = n
		return nil
	}, `SELECT metric, COUNT(*) FROM recent_values WHERE host_ip = ? AND host_port = 22 GROUP BY metric`, ip)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// heldValues returns every stored value of the hosts, as "ip metric at
// value" lines in the table's order.
func heldValues(t *testing.T, db *DB, ips ...string) []string {
	t.Helper()
	var out []string
	for _, ip := range ips {
		err := eachRow(t.Context(), db.db, func(rows *sql.Rows) error {
			var (
				metric, at string
				v          float64
			)
			if err := rows.Scan(&metric, &at, &v); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s %s %s %v", ip, metric, at, v))
			return nil
		}, `SELECT metric, at, value FROM recent_values WHERE host_ip = ? AND host_port = 22 ORDER BY metric, at`, ip)
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestRecentValuesTrimOnlyTheRoundsHosts: two cores (two handles on one
// database) write rounds of disjoint hosts; each host's metrics hold at
// most KeepValues+trimSlack values and readers get the newest
// KeepValues; a core's trim never deletes values of hosts it was not
// given, however many they hold.
func TestRecentValuesTrimOnlyTheRoundsHosts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		const keep = 3
		ctx := t.Context()
		target := e.target(t)
		coreA, coreB := e.open(t, target, Options{KeepValues: keep}), e.open(t, target, Options{KeepValues: keep})
		hostsA := []string{"10.0.1.1", "10.0.1.2", "10.0.1.3"}
		hostsB := []string{"10.0.2.1", "10.0.2.2"}
		t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		round := func(db *DB, ips []string, at time.Time, v float64) {
			t.Helper()
			hosts := make([]HostValues, len(ips))
			for i, ip := range ips {
				hosts[i] = HostValues{HostIP: ip, HostPort: 22, At: at, Values: map[string]float64{"cpu.percent": v, "load.1": 1}}
			}
			mustDo(t, db.AddRoundValues(ctx, hosts))
		}
		check := func(when string, db *DB, ips []string, rounds int, newest float64) {
			t.Helper()
			for _, ip := range ips {
				for metric, n := range valuesByMetric(t, db, ip) {
					if n > keep+trimSlack || (rounds >= keep && n < keep) {
						t.Fatalf("%s: %s %s holds %d values; want %d to %d", when, ip, metric, n, keep, keep+trimSlack)
					}
				}
				vs, err := db.RecentValues(ctx, ip, 22, "cpu.percent", -1)
				if err != nil {
					t.Fatal(err)
				}
				if want := min(rounds, keep); len(vs) != want || vs[len(vs)-1].Value != newest {
					t.Fatalf("%s: RecentValues of %s = %v, want the newest %d ending with %v", when, ip, vs, want, newest)
				}
			}
		}

		for i := range 40 {
			at := t0.Add(time.Duration(i) * time.Minute)
			round(coreA, hostsA, at, float64(i))
			round(coreB, hostsB, at.Add(30*time.Second), float64(-i))
			check(fmt.Sprintf("round %d of core A", i), coreB, hostsA, i+1, float64(i))
			check(fmt.Sprintf("round %d of core B", i), coreA, hostsB, i+1, float64(-i))
		}

		// A host of core B's that holds more than KeepValues (its own
		// rounds have not trimmed it yet), then rounds of core A alone.
		const crowded = "10.0.3.1"
		for i := range keep + trimSlack {
			round(coreB, []string{crowded}, t0.Add(time.Duration(i)*time.Minute), float64(i))
		}
		if n := valuesByMetric(t, coreB, crowded)["cpu.percent"]; n != keep+trimSlack {
			t.Fatalf("%s holds %d values of cpu.percent, want %d", crowded, n, keep+trimSlack)
		}
		others := slices.Concat(hostsB, []string{crowded})
		before := heldValues(t, coreA, others...)
		for i := 40; i < 40+4*(keep+trimSlack); i++ {
			round(coreA, hostsA, t0.Add(time.Duration(i)*time.Minute), float64(i))
			check(fmt.Sprintf("round %d of core A alone", i), coreA, hostsA, i+1, float64(i))
		}
		if after := heldValues(t, coreA, others...); !reflect.DeepEqual(after, before) {
			t.Fatalf("core A's rounds changed the values of core B's hosts:\nbefore %q\nafter  %q", before, after)
		}
	})
}

// TestRecentValuesTrimInHostBatches: a round of more hosts than one
// statement names trims every host's metrics.
func TestRecentValuesTrimInHostBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		const keep = 2
		ctx := t.Context()
		db := openTest(t, e, Options{KeepValues: keep})
		ips := make([]string, 2*hostsPerStatement+7)
		for i := range ips {
			ips[i] = fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
		}
		t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		const rounds = keep + trimSlack + 1 // the last round trims
		for r := range rounds {
			hosts := make([]HostValues, len(ips))
			for i, ip := range ips {
				hosts[i] = HostValues{HostIP: ip, HostPort: 22, At: t0.Add(time.Duration(r) * time.Minute), Values: map[string]float64{"cpu.percent": float64(r)}}
			}
			mustDo(t, db.AddRoundValues(ctx, hosts))
		}
		var held int
		if err := db.db.QueryRow(`SELECT COUNT(*) FROM recent_values`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if want := len(ips) * keep; held != want {
			t.Fatalf("%d values held after %d rounds of %d hosts; want %d (every host trimmed to %d)", held, rounds, len(ips), want, keep)
		}
	})
}
