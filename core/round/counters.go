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

// roundCursors is the collector's event-cursor store for one round: it
// reads each host's cursors from the state database and keeps the new
// ones until the round's mail is queued, then the alert stage writes them
// in the same transaction as that mail (state.DB.CommitRound). A core
// that dies in between leaves both unwritten: the next round reads the
// events again and mails them once, rather than skipping them.
type roundCursors struct {
	st      *state.DB
	mu      sync.Mutex
	pending []state.Cursor
}

func (c *roundCursors) Cursor(ctx context.Context, hostIP string, hostPort int, channel string) (string, bool, error) {
	return c.st.Cursor(ctx, hostIP, hostPort, channel)
}

func (c *roundCursors) SetCursor(_ context.Context, hostIP string, hostPort int, channel, cursor string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, state.Cursor{HostIP: hostIP, HostPort: hostPort, Channel: channel, Cursor: cursor})
	return nil
}

// take returns the cursors kept so far and forgets them; none for a nil
// store.
func (c *roundCursors) take() []state.Cursor {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.pending
	c.pending = nil
	return out
}
