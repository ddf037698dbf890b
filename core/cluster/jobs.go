package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// dispatchArgs is the job of one interval: dispatch its hosts.
type dispatchArgs struct {
	// Slot is the interval's start, Unix nanoseconds.
	Slot int64 `json:"slot" river:"unique"`
	// Tick is the interval's length.
	Tick time.Duration `json:"tick"`
}

func (dispatchArgs) Kind() string { return "cscs_dispatch" }

// collectArgs is the job of one chunk of hosts in one interval.
type collectArgs struct {
	Slot  int64         `json:"slot" river:"unique"`
	Tick  time.Duration `json:"tick"`
	Queue string        `json:"queue" river:"unique"`
	Chunk int           `json:"chunk" river:"unique"`
	// Hosts are the labels of the chunk's hosts.
	Hosts []string `json:"hosts"`
}

func (collectArgs) Kind() string { return "cscs_collect" }

// timerSlack lets a schedule's timer fire a little early and still name
// the interval that starts.
const timerSlack = 50 * time.Millisecond

// dispatchArgs is the leader's periodic job: dispatch the interval that
// starts now (or, at the leader's start, the one in progress).
func (m *Member) dispatchArgs() (river.JobArgs, *river.InsertOpts) {
	tick := m.fleet.Tick()
	slot := slotOf(time.Now().Add(timerSlack), tick)
	return dispatchArgs{Slot: slot.UnixNano(), Tick: tick}, &river.InsertOpts{
		Queue: dispatchQueue, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true},
	}
}

// dispatchWorker works dispatch jobs.
type dispatchWorker struct {
	river.WorkerDefaults[dispatchArgs]
	m *Member
}

func (w *dispatchWorker) Work(ctx context.Context, job *river.Job[dispatchArgs]) error {
	slot, tick := time.Unix(0, job.Args.Slot), job.Args.Tick
	if time.Since(slot) >= tick {
		w.m.log.Info("an interval's dispatch came after its end; the next one dispatches its hosts", "interval", slot.UTC())
		return nil
	}
	return w.m.dispatch(ctx, slot, tick)
}

// dispatch inserts the collect jobs of the interval starting at slot,
// after forgetting those of earlier intervals that no instance started.
func (m *Member) dispatch(ctx context.Context, slot time.Time, tick time.Duration) error {
	forgotten, err := m.client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().
		Kinds(collectArgs{}.Kind()).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable).
		Where("(args->>'slot')::bigint < @slot", river.NamedArgs{"slot": slot.UnixNano()}).
		First(10000))
	if err != nil {
		return fmt.Errorf("forget the collect jobs of earlier intervals: %w", err)
	}
	if n := skippedHosts(forgotten.Jobs); n > 0 {
		m.log.Warn("hosts of an earlier interval were not collected before this one started (instances too busy, or none serves their site); they are due again now",
			"hosts", n, "jobs", len(forgotten.Jobs))
	}
	hosts, err := m.notBusy(ctx, m.fleet.Due(slot, tick))
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		return nil
	}
	served, err := m.servedSites(ctx)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for queue, labels := range byQueue(hosts, served) {
		for chunk := 0; chunk*m.opts.Chunk < len(labels); chunk++ {
			part := labels[chunk*m.opts.Chunk : min(len(labels), (chunk+1)*m.opts.Chunk)]
			params = append(params, river.InsertManyParams{
				Args: collectArgs{Slot: slot.UnixNano(), Tick: tick, Queue: queue, Chunk: chunk, Hosts: part},
				InsertOpts: &river.InsertOpts{Queue: queue, MaxAttempts: 3,
					UniqueOpts: river.UniqueOpts{ByArgs: true}},
			})
		}
	}
	res, err := m.client.InsertMany(ctx, params)
	if err != nil {
		return fmt.Errorf("insert the collect jobs of the interval at %s: %w", slot.UTC().Format(time.RFC3339), err)
	}
	inserted := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			inserted++
		}
	}
	m.log.Debug("dispatched an interval", "interval", slot.UTC(), "hosts", len(hosts), "jobs", inserted)
	return nil
}

// notBusy leaves out of hosts those that a live member is still
// collecting for an earlier interval, so that no host is collected by two
// rounds at once (they would both read its event log from the same
// cursor). A job whose member stopped beating (cluster_members) does not
// count: that member is gone, and River rescues the job later.
func (m *Member) notBusy(ctx context.Context, hosts []Host) ([]Host, error) {
	running, err := m.client.JobList(ctx, river.NewJobListParams().
		Kinds(collectArgs{}.Kind()).States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return nil, fmt.Errorf("list the collect jobs running: %w", err)
	}
	if len(running.Jobs) == 0 {
		return hosts, nil
	}
	members, err := m.st.Members(ctx)
	if err != nil {
		return nil, err
	}
	alive := map[string]bool{}
	now := time.Now()
	for _, mem := range members {
		alive[mem.ID] = now.Sub(mem.SeenAt) < 3*Heartbeat
	}
	busy := map[string]bool{}
	for _, j := range running.Jobs {
		if n := len(j.AttemptedBy); n == 0 || !alive[j.AttemptedBy[n-1]] {
			continue
		}
		var args collectArgs
		if json.Unmarshal(j.EncodedArgs, &args) == nil {
			for _, h := range args.Hosts {
				busy[h] = true
			}
		}
	}
	if len(busy) == 0 {
		return hosts, nil
	}
	out := make([]Host, 0, len(hosts))
	for _, h := range hosts {
		if !busy[h.Label] {
			out = append(out, h)
		}
	}
	if left := len(hosts) - len(out); left > 0 {
		m.log.Warn("hosts still being collected for an earlier interval are left out of this one (the rounds take longer than the interval)",
			"hosts", left)
	}
	return out, nil
}

// skippedHosts counts the hosts of forgotten collect jobs.
func skippedHosts(jobs []*rivertype.JobRow) int {
	n := 0
	for _, j := range jobs {
		var args collectArgs
		if json.Unmarshal(j.EncodedArgs, &args) == nil {
			n += len(args.Hosts)
		}
	}
	return n
}

// byQueue puts each host in the queue of its first group that an
// instance serves (served), else in DefaultQueue.
func byQueue(hosts []Host, served map[string]bool) map[string][]string {
	out := map[string][]string{}
	for _, h := range hosts {
		q := DefaultQueue
		for _, g := range h.Groups {
			if served[g] {
				q = SitePrefix + g
				break
			}
		}
		out[q] = append(out[q], h.Label)
	}
	return out
}

// servedSites are the sites some instance serves: the site queues River
// knows (a queue is listed once an instance working it started, and
// forgotten a day after the last one stopped).
func (m *Member) servedSites(ctx context.Context) (map[string]bool, error) {
	list, err := m.client.QueueList(ctx, river.NewQueueListParams().First(10000))
	if err != nil {
		return nil, fmt.Errorf("list the cluster's queues: %w", err)
	}
	served := map[string]bool{}
	for _, q := range list.Queues {
		if site, ok := strings.CutPrefix(q.Name, SitePrefix); ok {
			served[site] = true
		}
	}
	return served, nil
}

// collectWorker works collect jobs.
type collectWorker struct {
	river.WorkerDefaults[collectArgs]
	m *Member
}

func (w *collectWorker) Work(ctx context.Context, job *river.Job[collectArgs]) error {
	slot, tick := time.Unix(0, job.Args.Slot), job.Args.Tick
	if time.Since(slot) >= tick {
		// A job rescued from a dead instance, or one that waited too long:
		// its hosts are in the next interval's jobs.
		w.m.log.Warn("skipped hosts whose interval ended before an instance could collect them; the next interval collects them",
			"interval", slot.UTC(), "hosts", len(job.Args.Hosts), "attempt", job.Attempt)
		return nil
	}
	collected, failed := w.m.fleet.Collect(ctx, slot, job.Args.Hosts)
	if err := w.m.st.AddMemberWork(context.WithoutCancel(ctx), w.m.id, slot, collected, failed); err != nil {
		w.m.log.Warn("counting this member's work", "error", err)
	}
	return nil
}
