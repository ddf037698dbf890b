// Package round runs one round of collection from a Plan: it collects
// every host of the inventory through a bounded pool (package pool), then
// evaluates the alert rules and queues the round's notifications (alerts
// and event-log mail) in the outbox, stores the round in every storage
// (replaying what earlier rounds spooled, spooling what a storage could
// not take), and delivers what the outbox holds beside storing it, or
// leaves that to a Deliverer running beside the rounds. It knows no command
// line: `cscs run` and a long-running server build a Plan from the loaded
// configuration (Load, NewPlan), call Run, and print or publish the
// Result.
//
// The path of a round:
//
//	Load(files) → Config ─ NewPlan(config, settings, environment) → Plan
//	Run(plan):
//	  pipeline.Start     plugins start while the first hosts connect
//	  pool.Run           remote.Collector per host, bounded, each with its deadline
//	  raiseAlerts        rules → alert state, outbox (package alert, eventmail, outbox)
//	  store              every storage at once; spool on failure (package spool)
//	  deliver            beside store, within MailWait: the outbox through the
//	                     notifiers (pipeline.StartNotifier); or a Deliverer
//	                     beside the rounds (RunOptions.Deliverer)
package round

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round/pool"
	"github.com/cscs-dev/cscs/core/round/remote"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Reporter hears from a round while it runs. Its methods are called from
// one goroutine at a time.
type Reporter interface {
	// HostDone is called once per finished host with the count done so
	// far.
	HostDone(done, total int, c storage.Collection)
	// Note is a line for the operator.
	Note(n Note)
}

// Note is a line a round has for the operator.
type Note struct {
	// Problem is set when something went wrong (a command prints it
	// under its name); unset for information.
	Problem bool
	// PluginFailed is set when the note reports a plugin that failed: it
	// could not be started or loaded, or stopped answering. Result counts
	// them (PluginFailures).
	PluginFailed bool
	Text         string
}

// Result is what a round did.
type Result struct {
	// Batch holds one collection per client, in the inventory's order,
	// and the alert states and notification records the round changed.
	Batch *storage.Batch
	// Storages names where the round was stored.
	Storages string
	// Stored is set when every storage took the round (else it is
	// spooled, or lost when spooling failed: a Note says which).
	Stored bool
	// Notified is set when every notification was queued and none failed
	// for good (with RunOptions.Deliverer: when every notification was
	// queued; the deliverer reports how sending went).
	Notified bool
	// PluginFailures counts the round's notes about a plugin that failed
	// (Note.PluginFailed).
	PluginFailures int
}

// OK reports whether every host was collected whole (none ok with
// errors), the round stored and notified, and no plugin failed.
func (r *Result) OK() bool {
	return r.Stored && r.Notified && r.PluginFailures == 0 && pool.AllOK(r.Batch)
}

// PartlyFailed reports whether c is ok with errors (pool.PartlyFailed):
// a module failed, a source was left out or values were dropped.
func PartlyFailed(c storage.Collection) bool { return pool.PartlyFailed(c) }

// String summarizes the round, e.g. "50 hosts in 2.1s: 48 ok (2 with
// errors), 1 unreachable, 1 timeout".
func (r *Result) String() string {
	counts := pool.Summary(r.Batch)
	partly := 0
	for _, c := range r.Batch.Collections {
		if pool.PartlyFailed(c) {
			partly++
		}
	}
	parts := make([]string, 0, len(counts))
	for _, s := range storage.Statuses {
		if n := counts[s]; n > 0 {
			part := fmt.Sprintf("%d %s", n, s)
			if s == storage.StatusOK && partly > 0 {
				part += fmt.Sprintf(" (%d with errors)", partly)
			}
			parts = append(parts, part)
		}
	}
	return fmt.Sprintf("%d hosts in %s: %s", len(r.Batch.Collections),
		r.Batch.FinishedAt.Sub(r.Batch.StartedAt).Round(time.Millisecond), strings.Join(parts, ", "))
}

// StopGrace is how long a round stopped by its context may still spend
// delivering notifications, so a collector told to stop (SIGTERM, Ctrl-C)
// stops within a bound even when a mail server hangs.
const StopGrace = 5 * time.Second

// RunOptions tune RunWith.
type RunOptions struct {
	// Deliverer, when set, sends the outbox beside the rounds, run by the
	// caller (a service wakes it with Queued): the round only queues its
	// notifications and never waits on a notifier, and its records for
	// the storages include the notifications the deliverer changed since
	// the last round. When nil, the round delivers the outbox itself,
	// beside storing the round, within MailWait.
	Deliverer *Deliverer
	// Queued, when set, is called once the round's notifications are in
	// the outbox, before the round is stored.
	Queued func()
}

// Run runs one round of p, delivering its mail itself (RunWith without
// options): one round then exit, as `cscs run` does.
func Run(ctx context.Context, p *Plan, rep Reporter) *Result {
	return RunWith(ctx, p, rep, RunOptions{})
}

// RunWith runs one round of p. Cancelling ctx stops collecting (hosts not
// finished are recorded as cancelled); what was collected is still
// evaluated and stored, and notified within StopGrace.
func RunWith(ctx context.Context, p *Plan, rep Reporter, opts RunOptions) *Result {
	failures := &pluginFailureCounter{Reporter: rep}
	// The round's mail is delivered beside its store: their notes take
	// turns.
	rep = &lockedReporter{r: failures}
	notes := noter{rep}
	// Plugins start while the first hosts connect; hosts wait for the
	// sources only once their platform is known. They start also when
	// ctx is cancelled: what was collected is still stored.
	po := p.pipelineOptions()
	if opts.Deliverer == nil {
		// The round sends its own mail: the process of the built-in
		// sources serves the mail's notifier too.
		po.Notifier = defaultNotifier
	}
	pending := pipeline.Start(context.WithoutCancel(ctx), po)

	// The state database keeps alert states, the outbox and event cursors.
	// Without it the round still runs: alerts are skipped and cursors do
	// not advance.
	st, err := state.Open(context.WithoutCancel(ctx), p.Env.StateTarget(), state.Options{})
	if err != nil {
		notes.problem("state database: %v; alerts are skipped and event cursors do not advance this round", err)
		st = nil
	} else {
		defer st.Close()
		// The collectors look up each host's platform, event cursors and
		// counters: a round of a part of the fleet (a cluster's chunk, a
		// group due) reads those of its hosts at once; a larger one reads
		// each table whole, which costs less a row.
		keys := p.stateHosts()
		if len(keys) <= prefetchHostsMax {
			if err := st.PrefetchHosts(context.WithoutCancel(ctx), keys); err != nil {
				notes.info("reading the round's host platforms, event cursors and counters at once failed, the tables not read are read whole: %v", err)
			}
		}
	}
	cs := remote.Settings{
		Identity: p.Identity, Agents: p.agents, HostKeys: p.hostKeys,
		ConnectTimeout: p.Settings.ConnectTimeout, HandshakeTimeout: p.Settings.HandshakeTimeout,
		MaxHandshakes: p.Settings.MaxHandshakes, MaxUploads: p.Settings.MaxUploads,
		CPUSample: p.Settings.CPUSample, UseSSHAgent: p.Env.UseSSHAgent,
		Sources: pending, ModuleConfig: p.moduleConfig,
	}
	var counters *roundCounters
	var cursors *roundCursors
	if st != nil {
		counters, cursors = &roundCounters{st: st}, &roundCursors{st: st}
		cs.Cursors, cs.Platforms, cs.Counters = cursors, st, counters
	}
	if p.policy != nil {
		cs.Policy = p.policy
	}
	collector := remote.New(cs)
	clients := p.Config.Inventory.Clients
	hosts := make([]pool.Host, len(clients))
	for i, cl := range clients {
		hosts[i] = pool.Host{IP: cl.IP, Port: cl.Port}
	}
	batch := pool.Run(ctx, hosts, pool.CollectorFunc(func(ctx context.Context, i int) storage.Collection {
		return collector.Collect(ctx, clients[i])
	}), pool.Options{
		Concurrency: p.Settings.Concurrency,
		HostTimeout: p.Settings.HostTimeout,
		Progress:    rep.HostDone,
	})
	res := &Result{Batch: batch, Storages: p.Storages()}
	if counters != nil {
		if err := counters.flush(context.WithoutCancel(ctx)); err != nil {
			notes.problem("keeping the hosts' network counters: %v; the next round has no rates for them", err)
		}
	}

	// What follows is done also when ctx was cancelled: what finished is
	// kept. Mail then gets StopGrace (else MailWait): what it cannot send
	// waits in the outbox for the next start.
	stopping := ctx.Err() != nil
	ctx = context.WithoutCancel(ctx)
	pipe, err := pending.Wait(ctx)
	if err != nil {
		notes.pluginProblem("%v", err)
		res.PluginFailures = failures.count()
		return res
	}
	defer pipe.Close(ctx)
	for _, w := range pipe.Warnings {
		notes.pluginProblem("%s", p.redact(w.Error()))
	}

	// Alerts first, so the storages also receive the alert states and
	// outbox records the round changed.
	a := alerting{plan: p, st: st, notes: notes, cursors: cursors}
	if opts.Deliverer != nil {
		a.tried = opts.Deliverer.TakeTried()
	}
	mail := a.raise(ctx, pipe.Sources.Descriptions(), batch)
	batch.Alerts, batch.Notifications = mail.alerts, mail.notifications
	res.Notified = mail.ok
	if opts.Queued != nil {
		opts.Queued()
	}
	if opts.Deliverer == nil && st != nil {
		mailing := deliverBeside(ctx, p, st, notes, stopping, pipe)
		// The storages get the outbox records as a quick delivery left
		// them; a slow one does not hold the store up.
		select {
		case <-mailing.done:
		case <-time.After(MailHeadStart):
		}
		batch.Notifications = outboxRecords(ctx, st, mail.ids, time.Now())
		res.Stored = store(ctx, notes, p, pipe.Storages, batch)
		<-mailing.done
		res.Notified = res.Notified && mailing.ok
	} else {
		res.Stored = store(ctx, notes, p, pipe.Storages, batch)
	}
	res.PluginFailures = failures.count()
	return res
}

// prefetchHostsMax is the most hosts a round reads the platforms, cursors
// and counters of by host (state.DB.PrefetchHosts); a round of more reads
// the tables whole: BenchmarkHostLookups in core/state measured ~23 µs a
// host by host against ~10 µs a row whole, so by host wins for a part of
// the fleet, and costs at most ~25 ms here.
const prefetchHostsMax = 1000

// stateHosts are the plan's clients as the state database keys them.
func (p *Plan) stateHosts() []state.HostKey {
	keys := make([]state.HostKey, len(p.Config.Inventory.Clients))
	for i, cl := range p.Config.Inventory.Clients {
		keys[i] = state.HostKey{IP: cl.IP, Port: cl.Port}
	}
	return keys
}

// MailHeadStart is how long a round that delivers its own mail lets the
// delivery run before it stores the round, so that a quick delivery's
// outcome (sent) is in the records the storages receive. The store does
// not wait longer, however slow the mail server.
const MailHeadStart = time.Second

// mailing is a delivery running beside a round: ok (no notification
// failed for good) is set when done is closed.
type mailing struct {
	done chan struct{}
	ok   bool
}

// deliverBeside delivers the outbox of st in a goroutine, within MailWait
// (StopGrace when the round is stopping). What is not sent waits in the
// outbox for the next run, with a note saying so.
func deliverBeside(ctx context.Context, p *Plan, st *state.DB, notes noter, stopping bool, pipe *pipeline.Pipeline) *mailing {
	wait := MailWait
	if stopping {
		wait = StopGrace
		notes.info("stopping: mail gets %s; what is not sent by then waits in the outbox for the next start", wait)
	}
	m := &mailing{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		deliverCtx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		d := NewDeliverer().deliver(deliverCtx, p, st, notes, pipe)
		if d.Waiting > 0 {
			why := "the notifier failed for now"
			if deliverCtx.Err() != nil {
				why = fmt.Sprintf("a run gives mail %s", wait)
			}
			notes.info("%d notification(s) wait in the outbox for the next run (%s)", d.Waiting, why)
		}
		m.ok = d.OK
	}()
	return m
}

// pluginFailureCounter passes a round's reports on and counts the notes
// about failed plugins.
type pluginFailureCounter struct {
	Reporter
	mu sync.Mutex
	n  int
}

func (c *pluginFailureCounter) Note(n Note) {
	if n.PluginFailed {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	c.Reporter.Note(n)
}

func (c *pluginFailureCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// lockedReporter lets several goroutines report to r, one at a time.
type lockedReporter struct {
	mu sync.Mutex
	r  Reporter
}

func (l *lockedReporter) HostDone(done, total int, c storage.Collection) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r.HostDone(done, total, c)
}

func (l *lockedReporter) Note(n Note) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r.Note(n)
}

// pluginProblem is a problem note about a plugin that failed.
func (n noter) pluginProblem(format string, args ...any) {
	n.rep.Note(Note{Problem: true, PluginFailed: true, Text: fmt.Sprintf(format, args...)})
}

// clientLabel names a client in notes: ip, or ip:port off port 22.
func clientLabel(cl config.Client) string {
	return HostLabel(cl.IP, cl.Port)
}
