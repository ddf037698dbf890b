// Package serve runs rounds unattended: one round of a plan every
// interval, a little jitter on each start, never two at once; a reload
// that replaces the plan only when the new configuration is valid; and an
// HTTP handler with status pages (the fleet, one page per host), /healthz,
// /readyz and /metrics for whoever watches the collector. `cscs serve`
// wires it to a listener and to signals; `cscs run --interval` uses the
// schedule alone.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/core/cluster"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/internal/sleep"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// DefaultInterval is the time between the starts of two rounds when the
// command line and the overlays set none.
const DefaultInterval = time.Minute

// Options tune a Service.
type Options struct {
	// Interval is the time between the starts of two rounds when the
	// plan's settings give none (DefaultInterval when zero).
	Interval time.Duration
	// Jitter is the most each start is delayed, at random, so that
	// collectors started together do not stay in step (Interval/10 when
	// zero; negative for none).
	Jitter time.Duration
	// Logger receives what the service does (a discarding logger when
	// nil).
	Logger *slog.Logger
	// Reporter, when set, makes the reporter of each round (progress and
	// notes); else notes go to Logger.
	Reporter func() round.Reporter
	// Done, when set, receives every round that ran to its end.
	Done func(*round.Result)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Cluster, when set, makes ListenAndRun run the service as a member of
	// a cluster (RunCluster) instead of on its own schedule.
	Cluster *cluster.Options
}

// Reloader loads every configuration file again and plans with it; it
// returns an error wrapping round.ErrInvalid for a configuration with
// errors.
type Reloader func(ctx context.Context) (*round.Plan, error)

// Service runs the rounds of a plan on a schedule and keeps what a
// status page and a scraper ask for. Its methods are safe for concurrent
// use.
type Service struct {
	opts   Options
	reload Reloader

	mu   sync.Mutex
	plan *round.Plan
	// last is the latest round that ran to its end; lastAt when it ended
	// and lastTook how long it took.
	last     *round.Result
	lastAt   time.Time
	lastTook time.Duration
	// hosts is what the service knows of each client, by HostLabel.
	hosts map[string]*hostRecord
	// tick is the shortest collection interval of the plan.
	tick time.Duration

	metrics *metrics
	pages   *pages
	// deliverer sends the outbox beside the rounds (see mailer).
	deliverer *round.Deliverer
	// member is the service in its cluster (RunCluster); nil when it
	// runs its own schedule.
	member *cluster.Member
}

// hostRecord is the latest collection of one client.
type hostRecord struct {
	last storage.Collection
	// started is when the round that collected it started; lastOK when
	// it was last collected successfully (zero before).
	started, lastOK time.Time
}

// HostView is one client as the service last saw it.
type HostView struct {
	Label      string
	Collection storage.Collection
	// LastOK is when the host was last collected successfully; zero when
	// never since the service started.
	LastOK time.Time
}

// New returns a service running plan; reload, when not nil, makes the
// plan a Reload installs.
func New(plan *round.Plan, reload Reloader, opts Options) *Service {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Jitter == 0 {
		opts.Jitter = opts.Interval / 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{opts: opts, reload: reload, plan: plan, hosts: map[string]*hostRecord{}, tick: opts.Interval, pages: newPages(),
		deliverer: round.NewDeliverer()}
	s.metrics = newMetrics(s.readFleet, s.readCluster, opts.Now)
	return s
}

// Run runs a round now, then one every tick, until ctx ends. The tick
// is the shortest collection interval of the clients: Options.Interval,
// or their overlay group's interval. Each round collects the clients that are
// due: those never collected, and those whose last collection started at
// least their interval ago (within half a tick), so a group with
// interval = "5m" is collected every fifth round of a one-minute tick.
//
// A round is never started while the previous one runs: a round that
// takes longer than the tick is followed by the next one at once, and the
// rounds it overran are counted as skipped. Cancelling ctx ends the round
// in progress (hosts not reached are recorded as cancelled, what was
// collected is stored) and Run returns the last complete round's result,
// nil when none completed.
//
// The outbox is delivered beside the rounds (see mailer): a round queues
// its notifications and ends without waiting for a notifier. When ctx
// ends, a delivery in progress gets round.StopGrace before Run returns.
func (s *Service) Run(ctx context.Context) *round.Result {
	m, stop := s.startMailer(ctx)
	defer stop()
	var last *round.Result
	next := s.opts.Now()
	for {
		if delay := next.Sub(s.opts.Now()) + s.jitter(); !sleep.For(ctx, max(delay, 0)) {
			return last
		}
		start := s.opts.Now()
		plan, tick := s.due(start)
		next = start.Add(tick)
		if plan == nil {
			continue // every client was collected recently enough
		}
		res, took, complete := s.runOnce(ctx, plan, start, m)
		if !complete {
			return last
		}
		last = res
		if overran := int(took / tick); overran > 0 {
			s.metrics.skipped.Add(float64(overran))
			s.opts.Logger.Warn("the round took longer than the interval; the next one starts now",
				"took", took.Round(time.Millisecond), "interval", tick, "skipped", overran)
			next = s.opts.Now()
		}
	}
}

// due returns the plan of the clients due at now (nil when none is) and
// the tick: the time to the next look.
func (s *Service) due(now time.Time) (*round.Plan, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intervals, tick := s.intervalsLocked(func(cl config.Client) string {
		if r, ok := s.hosts[round.HostLabel(cl.IP, cl.Port)]; ok {
			return r.last.OS
		}
		return ""
	})
	var due []int
	for i, cl := range s.plan.Config.Inventory.Clients {
		r, ok := s.hosts[round.HostLabel(cl.IP, cl.Port)]
		if !ok || now.Sub(r.started) >= intervals[i]-tick/2 {
			due = append(due, i)
		}
	}
	if len(due) == 0 {
		return nil, tick
	}
	return s.plan.Only(due), tick
}

// intervalsLocked returns the interval of each client of the plan (see
// Plan.Intervals; osOf gives a client's OS) and the tick, the shortest of
// them, which it keeps for Tick. s.mu is held.
func (s *Service) intervalsLocked(osOf func(config.Client) string) ([]time.Duration, time.Duration) {
	base := s.opts.Interval
	if s.plan.Settings.Interval > 0 {
		base = s.plan.Settings.Interval // the plan's: a reload may change it
	}
	intervals := s.plan.Intervals(base, osOf)
	tick := base
	if len(intervals) > 0 {
		tick = slices.Min(intervals)
	}
	s.tick = tick
	return intervals, tick
}

// jitter is this start's random delay.
func (s *Service) jitter() time.Duration {
	if s.opts.Jitter <= 0 {
		return 0
	}
	return rand.N(s.opts.Jitter)
}

// runOnce runs one round of plan, started at start, and, when ctx did
// not end it, records it; it returns the round, how long it took and
// whether it ran to its end. The round wakes m once its notifications
// are queued.
func (s *Service) runOnce(ctx context.Context, plan *round.Plan, start time.Time, m *mailer) (res *round.Result, took time.Duration, complete bool) {
	rep := s.reporter()
	res = round.RunWith(ctx, plan, rep, round.RunOptions{Deliverer: s.deliverer, Queued: m.Wake})
	took = s.opts.Now().Sub(start)
	if ctx.Err() != nil {
		s.opts.Logger.Info("round stopped: hosts not finished are recorded as cancelled", "id", res.Batch.RoundID,
			"summary", res.String(), "stored", res.Stored, "notified", res.Notified)
		return res, took, false
	}
	s.record(res, start)
	s.metrics.observe(res, took, s.Hosts())
	s.opts.Logger.Info("round", "id", res.Batch.RoundID, "summary", res.String(), "stored", res.Stored, "notified", res.Notified)
	if s.opts.Done != nil {
		s.opts.Done(res)
	}
	return res, took, true
}

// record keeps a complete round that started at start: the latest round,
// when it ended and how long it took, and each of its hosts' collection;
// clients no longer in the plan are forgotten.
func (s *Service) record(res *round.Result, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.lastAt = res, s.opts.Now()
	s.lastTook = s.lastAt.Sub(start)
	for _, c := range res.Batch.Collections {
		label := round.HostLabel(c.HostIP, c.HostPort)
		r, ok := s.hosts[label]
		if !ok {
			r = &hostRecord{}
			s.hosts[label] = r
		}
		r.last, r.started = c, start
		if c.Status == storage.StatusOK {
			r.lastOK = c.FinishedAt
		}
	}
	inPlan := make(map[string]bool, len(s.plan.Config.Inventory.Clients))
	for _, cl := range s.plan.Config.Inventory.Clients {
		inPlan[round.HostLabel(cl.IP, cl.Port)] = true
	}
	for label := range s.hosts {
		if !inPlan[label] {
			delete(s.hosts, label)
		}
	}
}

// Hosts returns every client of the plan that a round of the service
// collected, in the inventory's order, with its latest collection.
func (s *Service) Hosts() []HostView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]HostView, 0, len(s.hosts))
	for _, cl := range s.plan.Config.Inventory.Clients {
		label := round.HostLabel(cl.IP, cl.Port)
		if r, ok := s.hosts[label]; ok {
			out = append(out, HostView{Label: label, Collection: r.last, LastOK: r.lastOK})
		}
	}
	return out
}

func (s *Service) reporter() round.Reporter {
	if s.opts.Reporter != nil {
		return s.opts.Reporter()
	}
	return logReporter{s.opts.Logger}
}

// Reload loads the configuration again and, when it is valid, installs
// the new plan for the next round; otherwise the running plan stays and
// the error says why.
func (s *Service) Reload(ctx context.Context) error {
	if s.reload == nil {
		return errors.New("this service cannot reload its configuration")
	}
	plan, err := s.reload(ctx)
	if err != nil {
		s.metrics.reloads.WithLabelValues("refused").Inc()
		s.opts.Logger.Error("reload refused; the running configuration is kept", "error", err)
		return err
	}
	s.mu.Lock()
	s.plan = plan
	s.mu.Unlock()
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.opts.Logger.Info("configuration reloaded; the next round uses it")
	return nil
}

// Tick is the time between two rounds: the shortest collection interval
// of the clients.
func (s *Service) Tick() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tick
}

// Last returns the latest round that ran to its end, when it ended and
// how long it took; nil before the first.
func (s *Service) Last() (res *round.Result, endedAt time.Time, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.lastAt, s.lastTook
}

// currentPlan is the plan the next round runs.
func (s *Service) currentPlan() *round.Plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plan
}

// readFleet reads what the state database and the spool say about the
// fleet of the current plan.
func (s *Service) readFleet(ctx context.Context) (round.Fleet, error) {
	return round.ReadFleet(ctx, s.currentPlan())
}

// logReporter sends a round's notes to a logger; finished hosts that
// failed are logged too.
type logReporter struct{ log *slog.Logger }

func (r logReporter) HostDone(_, _ int, c storage.Collection) {
	if c.Status != storage.StatusOK {
		r.log.Warn("host failed", "host", round.HostLabel(c.HostIP, c.HostPort), "status", c.Status, "error", c.Error)
	}
}

func (r logReporter) Note(n round.Note) {
	if n.Problem {
		r.log.Warn(n.Text)
		return
	}
	r.log.Info(n.Text)
}

// NewLogger is the service's logger on w: format "text" (for a terminal)
// or "json" (one object a line, for journald and log shippers), from
// level "debug", "info", "warn" or "error" up.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
