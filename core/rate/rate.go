// Package rate turns the counters a host reports (bytes received since
// boot, packets sent) into rates per second, from the totals the core
// kept from the host's previous round. The agent samples once per round;
// the previous total lives in the core's state, so a rate spans the whole
// interval between two rounds and survives the agent's restarts (every
// round starts a new agent).
package rate

import (
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// BootSlack is how far apart two reports' boot times may be and still
// name the same boot: the agent derives the boot time from the uptime, to
// the second.
const BootSlack = 5 * time.Second

// Counter is a counter's running total at a time, on a host booted at
// Boot (zero when the agent did not tell).
type Counter struct {
	Total float64   `json:"total"`
	At    time.Time `json:"at"`
	Boot  time.Time `json:"boot,omitzero"`
}

// Per returns the rate per second from prev to cur; ok is false when
// there is none: the counter went down (reset, wrapped, or the host
// rebooted and counted past nothing yet), the host booted in between
// (boot times more than BootSlack apart), or no time passed.
func Per(prev, cur Counter) (perSecond float64, ok bool) {
	elapsed := cur.At.Sub(prev.At).Seconds()
	switch {
	case elapsed <= 0, cur.Total < prev.Total:
		return 0, false
	case !prev.Boot.IsZero() && !cur.Boot.IsZero() && absDuration(cur.Boot.Sub(prev.Boot)) > BootSlack:
		return 0, false
	}
	return (cur.Total - prev.Total) / elapsed, true
}

// Apply replaces each counter of rep (protocol.Metric.Counter) with its
// rate since prev, keyed by the counter's name and labels
// (storage.FoldedName), and removes the counters that have none this round
// (the host's first round, a reset). It returns the totals to keep for
// the next round: this round's, for every counter rep holds; a counter
// the host no longer reports is forgotten. prev is not changed. A report
// without counters returns nil and leaves rep alone.
func Apply(prev map[string]Counter, rep *protocol.Report) map[string]Counter {
	var next map[string]Counter
	for i := range rep.Modules {
		m := &rep.Modules[i]
		kept := m.Metrics[:0]
		for _, mt := range m.Metrics {
			if !mt.Counter {
				kept = append(kept, mt)
				continue
			}
			if next == nil {
				next = make(map[string]Counter)
			}
			key := storage.FoldedName(mt.Name, mt.Labels)
			cur := Counter{Total: mt.Value, At: rep.CollectedAt.UTC(), Boot: rep.BootTime.UTC()}
			if _, dup := next[key]; dup {
				continue // the same counter twice: the first one counts
			}
			next[key] = cur
			p, found := prev[key]
			if !found {
				continue
			}
			if r, ok := Per(p, cur); ok {
				mt.Value, mt.Counter = r, false
				kept = append(kept, mt)
			}
		}
		clear(m.Metrics[len(kept):])
		m.Metrics = kept
	}
	return next
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
