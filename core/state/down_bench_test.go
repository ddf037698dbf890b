package state

import (
	"fmt"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// BenchmarkDownRuleHealthyRound evaluates the down rule of 200 and 500
// healthy hosts per round against the state database, on each engine,
// as a round does: the
// state of a host that stays up is not written again ("skip unchanged").
// "write every round" adds the write that skip spares, for comparison.
// "prefetched" rounds read every host's states with PrefetchAlerts
// first, so that Get reads no database.
func BenchmarkDownRuleHealthyRound(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, e engine) {
		for _, n := range []int{200, 500} {
			b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) { benchmarkDownRule(b, e, n) })
		}
	})
}

func benchmarkDownRule(b *testing.B, e engine, nHosts int) {
	for _, v := range []struct{ write, prefetch bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		write := v.write
		name := "skip unchanged"
		if write {
			name = "write every round"
		}
		if v.prefetch {
			name += " prefetched"
		}
		b.Run(name, func(b *testing.B) {
			db := openTest(b, e, Options{})
			rules := []alert.Rule{alert.DownRule(alert.DefaultDownAfter)}
			hosts := make([]alert.HostInfo, nHosts)
			for i := range hosts {
				hosts[i] = alert.HostInfo{IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Port: 22, Status: storage.StatusOK}
			}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			stored := make(map[string]alert.State, len(hosts)) // the states of the first round
			keys := make([]HostKey, len(hosts))
			for i, h := range hosts {
				keys[i] = HostKey{IP: h.IP, Port: h.Port}
			}
			round := func(at time.Time) {
				if v.prefetch {
					if err := db.PrefetchAlerts(b.Context(), keys); err != nil {
						b.Fatal(err)
					}
				}
				for _, h := range hosts {
					tr, err := alert.Evaluate(b.Context(), at, h, rules, nil, db, alert.DefaultRepeat)
					if err != nil {
						b.Fatal(err)
					}
					if err := tr.Commit(b.Context(), db); err != nil {
						b.Fatal(err)
					}
					for _, u := range tr.Updates {
						stored[u.HostIP] = u.State
					}
					if write && len(tr.Updates) == 0 {
						if err := db.Put(b.Context(), h.IP, h.Port, alert.DownRuleID, stored[h.IP]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			round(t0) // the first round stores every host's state
			b.ResetTimer()
			for i := range b.N {
				round(t0.Add(time.Duration(i+1) * time.Minute))
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(hosts)), "µs/host")
		})
	}
}
