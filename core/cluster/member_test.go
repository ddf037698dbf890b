package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// recordingFleet is a fleet whose hosts are labels: Due gives every host
// every interval, Collect records who collected what.
type recordingFleet struct {
	member string
	tick   time.Duration
	hosts  []Host
	rec    *collections
}

func (f *recordingFleet) Tick() time.Duration                 { return f.tick }
func (f *recordingFleet) Due(time.Time, time.Duration) []Host { return f.hosts }
func (f *recordingFleet) Collect(_ context.Context, slot time.Time, labels []string) (int, int) {
	f.rec.add(f.member, slot, labels)
	return len(labels), 0
}

// collections are the hosts collected, by interval and host: who
// collected them.
type collections struct {
	mu   sync.Mutex
	seen map[time.Time]map[string][]string
}

func (c *collections) add(member string, slot time.Time, labels []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[time.Time]map[string][]string{}
	}
	if c.seen[slot] == nil {
		c.seen[slot] = map[string][]string{}
	}
	for _, l := range labels {
		c.seen[slot][l] = append(c.seen[slot][l], member)
	}
}

// complete returns the intervals from since on in which every one of n
// hosts was collected.
func (c *collections) complete(n int, since time.Time) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for slot, hosts := range c.seen {
		if len(hosts) == n && !slot.Before(since) {
			out = append(out, slot)
		}
	}
	return out
}

// TestMembersShareIntervalsBySite: three members on one PostgreSQL state —
// one for site dc1, one for site dc2, one for the hosts of no site —
// collect every host once per interval, each host by the member of its
// site (its first group that a member serves), and the others by the
// member of no site.
func TestMembersShareIntervalsBySite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three cluster members for a few seconds")
	}
	dsn := pgtest.SchemaDSN(t)
	const tick = 2 * time.Second
	var hosts []Host
	for i := range 60 {
		h := Host{Label: fmt.Sprintf("10.0.0.%d", i)}
		switch i % 4 {
		case 0:
			h.Groups = []string{"web", "dc1"}
		case 1:
			h.Groups = []string{"dc2", "dc1"}
		case 2:
			h.Groups = []string{"web"}
		}
		hosts = append(hosts, h)
	}
	rec := &collections{}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, m := range []struct {
		name  string
		sites []string
	}{{"dc1", []string{"dc1"}}, {"dc2", []string{"dc2"}}, {"none", nil}} {
		member, err := Join(ctx, Options{State: dsn, Sites: m.sites, Chunk: 7, JobTimeout: 5 * time.Second},
			&recordingFleet{member: m.name, tick: tick, hosts: hosts, rec: rec})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := member.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	// A site is known once its member's queue is: judge the intervals
	// dispatched after every member started.
	time.Sleep(200 * time.Millisecond)
	judged := slotOf(time.Now(), tick).Add(tick)
	deadline := time.Now().Add(10 * tick)
	for len(rec.complete(len(hosts), judged)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d interval(s) collected every host; want 2", 10*tick, len(rec.complete(len(hosts), judged)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for slot, byHost := range rec.seen {
		if slot.Before(judged) {
			continue
		}
		for i, h := range hosts {
			who := byHost[h.Label]
			want := map[int]string{0: "dc1", 1: "dc2", 2: "none", 3: "none"}[i%4]
			if len(who) > 1 || len(who) == 1 && who[0] != want {
				t.Errorf("interval %s: host %s (groups %v) collected by %v, want once by %s", slot.UTC().Format(time.TimeOnly), h.Label, h.Groups, who, want)
			}
		}
	}
}
