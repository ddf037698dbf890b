// Package pool runs the collection part of a round: it fans the hosts out over a
// bounded pool of goroutines, gives each host its own deadline, and gathers
// every host's result into one storage.Batch. One host's failure never stops
// the round; hosts not started when the round is cancelled are recorded as
// cancelled.
package pool

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Host is one host to collect from, as the engine sees it.
type Host struct {
	IP   string
	Port int
}

// Collector gathers one host's result. It must honour ctx (the host's
// deadline) and always return a Collection with a Status.
type Collector interface {
	Collect(ctx context.Context, index int) storage.Collection
}

// CollectorFunc adapts a function to Collector.
type CollectorFunc func(ctx context.Context, index int) storage.Collection

// Collect calls f.
func (f CollectorFunc) Collect(ctx context.Context, index int) storage.Collection {
	return f(ctx, index)
}

// DefaultConcurrency suits hundreds of hosts: each host mostly waits on the
// network and the remote agent (the CPU sampling window), so goroutines are
// cheap. The costly part, the SSH handshake, has its own, lower bound
// (remote.DefaultMaxHandshakes), so the hosts' sampling windows overlap.
const DefaultConcurrency = 256

// Options tune a round.
type Options struct {
	// Concurrency bounds the hosts in flight (DefaultConcurrency if <= 0).
	Concurrency int
	// HostTimeout bounds one host from connect to report (0: none).
	HostTimeout time.Duration
	// Progress, when set, is called once per finished host, from one
	// goroutine at a time, with the count done so far.
	Progress func(done, total int, c storage.Collection)
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Run collects from every host and returns the round's batch, with one
// collection per host in the order of hosts.
func Run(ctx context.Context, hosts []Host, c Collector, opts Options) *storage.Batch {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	if workers > len(hosts) {
		workers = len(hosts)
	}

	batch := &storage.Batch{
		RoundID:     NewRoundID(now()),
		StartedAt:   now().UTC(),
		Collections: make([]storage.Collection, len(hosts)),
	}

	var (
		mu   sync.Mutex
		done int
	)
	finish := func(i int, col storage.Collection) {
		mu.Lock()
		defer mu.Unlock()
		batch.Collections[i] = col
		done++
		if opts.Progress != nil {
			opts.Progress(done, len(hosts), col)
		}
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				finish(i, collectOne(ctx, hosts[i], i, c, opts.HostTimeout, now))
			}
		}()
	}

	next := 0
feed:
	for ; next < len(hosts); next++ {
		select {
		case jobs <- next:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	for i := next; i < len(hosts); i++ {
		t := now().UTC()
		finish(i, storage.Collection{
			HostIP: hosts[i].IP, HostPort: hosts[i].Port,
			Status: storage.StatusCancelled, Error: "round cancelled before this host was started",
			StartedAt: t, FinishedAt: t,
		})
	}
	wg.Wait()
	batch.FinishedAt = now().UTC()
	return batch
}

func collectOne(ctx context.Context, h Host, i int, c Collector, timeout time.Duration, now func() time.Time) storage.Collection {
	start := now()
	hctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	col := c.Collect(hctx, i)
	end := now()
	col.HostIP, col.HostPort = h.IP, h.Port
	if col.StartedAt.IsZero() {
		col.StartedAt = start.UTC()
	}
	col.FinishedAt = end.UTC()
	col.Timings.Total = end.Sub(start)
	if col.Status == "" {
		col.Status = storage.StatusAgentError
		col.Error = "internal error: the collector returned no status"
	}
	return col
}

// NewRoundID returns a sortable, unique round identifier such as
// "20261125T221503Z-3f9a1c2b".
func NewRoundID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s", t.UTC().Format(roundIDTime), hex.EncodeToString(b[:]))
}

// roundIDTime is the layout of a round id's time.
const roundIDTime = "20060102T150405Z"

// RoundTime is when the round of id (a NewRoundID) started, to the
// second; false for an id of another form.
func RoundTime(id string) (time.Time, bool) {
	stamp, _, _ := strings.Cut(id, "-")
	t, err := time.Parse(roundIDTime, stamp)
	return t, err == nil
}

// Summary counts a batch's collections per status.
func Summary(b *storage.Batch) map[storage.Status]int {
	out := make(map[storage.Status]int)
	for _, c := range b.Collections {
		out[c.Status]++
	}
	return out
}

// AllOK reports whether every collection of the batch succeeded whole:
// every host ok, and none with errors (PartlyFailed).
func AllOK(b *storage.Batch) bool {
	for _, c := range b.Collections {
		if c.Status != storage.StatusOK || PartlyFailed(c) {
			return false
		}
	}
	return true
}

// PartlyFailed reports whether c is ok with errors: a module failed, a
// source was left out, or values were dropped; the rest was collected and
// c.Error says what is missing.
func PartlyFailed(c storage.Collection) bool {
	return c.Status == storage.StatusOK && c.Error != ""
}
