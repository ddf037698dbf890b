package round

import (
	"context"
	"sync"

	"github.com/cscs-dev/cscs/core/rate"
	"github.com/cscs-dev/cscs/core/state"
)

// roundCounters is the collector's counter store for one round: it reads
// each host's counters from the state database and keeps the new ones
// until the hosts are done, then writes them all in one transaction
// (flush) instead of one write per host while the round runs. Counters
// are a cache: a round that ends before flush only costs the next round
// its rates.
type roundCounters struct {
	st      *state.DB
	mu      sync.Mutex
	pending []state.HostCounters
}

func (c *roundCounters) Counters(ctx context.Context, hostIP string, hostPort int) (map[string]rate.Counter, bool, error) {
	return c.st.Counters(ctx, hostIP, hostPort)
}

func (c *roundCounters) SetCounters(_ context.Context, hostIP string, hostPort int, counters map[string]rate.Counter) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, state.HostCounters{IP: hostIP, Port: hostPort, Counters: counters})
	return nil
}

// flush writes the counters the round's hosts reported.
func (c *roundCounters) flush(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return nil
	}
	err := c.st.SetRoundCounters(ctx, c.pending)
	c.pending = nil
	return err
}
