// Package cluster divides the hosts of each interval between the `cscs
// serve --cluster` instances sharing one PostgreSQL state, through River
// (riverqueue/river), a job system for Go on PostgreSQL:
//
//   - River elects a leader among the instances; the leader's periodic job
//     inserts one dispatch job per interval, unique by the interval's start
//     (the slot), so a change of leader does not dispatch an interval
//     twice.
//   - Whichever instance works the dispatch job asks the Fleet which hosts
//     are due in that interval, forgets the collect jobs of earlier
//     intervals that no instance started (their hosts are due again now),
//     leaves out the hosts a live member is still collecting, and inserts one collect job per chunk of hosts, unique by slot, queue
//     and chunk, in the queue of the hosts' site (see Options.Sites) or the
//     default queue.
//   - Any instance serving that queue works a collect job: one round of
//     its hosts (Fleet.Collect). A job whose interval is over when it would
//     start (a rescued or late one) is skipped: its hosts are in the next
//     interval's jobs.
//   - River rescues a job whose instance died (kill -9) after
//     Options.JobTimeout plus a margin; each instance records itself and
//     its work per interval in the state's cluster_members table.
//
// What several instances share beyond that (alert states, the outbox,
// cursors) is the state database's (package state), whose claims and
// transactions are safe across processes.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/cscs-dev/cscs/core/state"
)

// Queue names: DefaultQueue holds the collect jobs of hosts of no site,
// dispatchQueue the dispatch jobs (every instance serves it), and a site's
// jobs go to SitePrefix + the site.
const (
	DefaultQueue  = "cscs"
	dispatchQueue = "cscs_dispatch"
	SitePrefix    = "site_"
)

// Defaults of Options. A chunk is one round: its fixed cost (plugin
// processes, state and storage sessions, ≈ 30 ms of CPU measured by
// BenchmarkCluster) is spread over its hosts, while smaller chunks spread
// an interval's work more evenly and lose fewer hosts with an instance
// that dies.
const (
	DefaultChunk   = 100
	DefaultWorkers = 2
	// Heartbeat is how often an instance records that it is alive; a
	// member not seen for three heartbeats counts as gone.
	Heartbeat = 5 * time.Second
	// forgetAfter is how long a member that stopped beating stays listed.
	forgetAfter = 24 * time.Hour
	// rescueMargin is how long after JobTimeout River rescues a job still
	// marked running (its instance died).
	rescueMargin = 15 * time.Second
	// retention is how long finished jobs are kept (River's default is a
	// day: at one job per 50 hosts a minute, too many rows).
	retention = time.Hour
)

// Host is a host due in an interval: its label (round.HostLabel) and the
// overlay groups it belongs to, in the overlays' order.
type Host struct {
	Label  string
	Groups []string
}

// Fleet is the collector a cluster divides the work of.
type Fleet interface {
	// Tick is the time between the starts of two intervals.
	Tick() time.Duration
	// Due returns the hosts due in the interval of length tick starting at
	// slot, in the inventory's order. Every instance must answer alike (the
	// same configuration), whichever runs the dispatch.
	Due(slot time.Time, tick time.Duration) []Host
	// Collect runs one round of the hosts labelled labels (those still in
	// the configuration) for the interval starting at slot and reports how
	// many it collected and how many of those were not ok.
	Collect(ctx context.Context, slot time.Time, labels []string) (collected, failed int)
}

// Options tune a cluster member.
type Options struct {
	// State is the PostgreSQL DSN of the shared state; River's tables live
	// in its schema (search_path) beside the state's.
	State string
	// Sites are the overlay groups whose hosts this instance collects;
	// none for the hosts of no site. A host belongs to the site of its
	// first group that some instance serves.
	Sites []string
	// Chunk is the number of hosts a collect job holds (DefaultChunk
	// when zero).
	Chunk int
	// Workers is the number of collect jobs this instance works at once
	// (DefaultWorkers when zero; `cscs serve` gives --concurrency ÷
	// Chunk).
	Workers int
	// JobTimeout bounds one collect job: a round of Chunk hosts with its
	// storing; River rescues a job of a dead instance rescueMargin after.
	JobTimeout time.Duration
	// Logger receives what the member does.
	Logger *slog.Logger
}

// siteName is what a queue name allows (River's rule).
var siteName = regexp.MustCompile(`^[a-zA-Z0-9]+([_-][a-zA-Z0-9]+)*$`)

// CheckSite refuses a site whose name cannot name a queue.
func CheckSite(site string) error {
	if !siteName.MatchString(site) || len(SitePrefix+site) > 64 {
		return fmt.Errorf("site %q: a site is an overlay group whose name is letters and digits, separated by single - or _, at most %d characters",
			site, 64-len(SitePrefix))
	}
	return nil
}

// Member is this instance in the cluster.
type Member struct {
	opts   Options
	fleet  Fleet
	id     string
	pool   *pgxpool.Pool
	st     *state.DB
	client *river.Client[pgx.Tx]
	// beat is when the last heartbeat succeeded, Unix nanoseconds (0
	// before the first).
	beat atomic.Int64
	log  *slog.Logger
}

// Join connects to the shared state, installs or upgrades River's tables
// there, records this instance as a member and prepares its job client;
// Run starts it. Close undoes what Join did when Run is not called.
func Join(ctx context.Context, opts Options, fleet Fleet) (*Member, error) {
	if !state.IsPostgres(opts.State) {
		return nil, errors.New("a cluster shares its state on PostgreSQL: give --state a postgres:// DSN")
	}
	for _, s := range opts.Sites {
		if err := CheckSite(s); err != nil {
			return nil, err
		}
	}
	if opts.Chunk <= 0 {
		opts.Chunk = DefaultChunk
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.JobTimeout <= 0 {
		return nil, errors.New("cluster: no job timeout")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	m := &Member{opts: opts, fleet: fleet, id: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(suffix)),
		log: opts.Logger}
	var err error
	if m.st, err = state.Open(ctx, opts.State, state.Options{}); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(opts.State)
	if err != nil {
		m.st.Close()
		return nil, fmt.Errorf("cluster state DSN: %w", err) // pgx's message names no password
	}
	cfg.MaxConns = int32(opts.Workers + 6)
	if m.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		m.st.Close()
		return nil, fmt.Errorf("connect to the cluster's PostgreSQL: %w", err)
	}
	if err := m.migrate(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if m.client, err = m.newClient(); err != nil {
		m.Close()
		return nil, err
	}
	now := time.Now()
	if err := m.st.JoinCluster(ctx, state.Member{ID: m.id, Host: host, PID: os.Getpid(), Sites: opts.Sites, StartedAt: now, SeenAt: now}); err != nil {
		m.Close()
		return nil, err
	}
	m.beat.Store(now.UnixNano()) // joining wrote to the shared state
	return m, nil
}

// migrate installs or upgrades River's tables, one instance at a time.
func (m *Member) migrate(ctx context.Context) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(m.pool), nil)
	if err != nil {
		return fmt.Errorf("prepare the job tables' migrations: %w", err)
	}
	// River's migrations commit one by one (an enum value must be
	// committed before use), so instances starting together take turns
	// under a session-level lock: the key is "cscs-river" in ASCII.
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("install the job tables: %w", err)
	}
	defer conn.Release()
	const key = 6356939263646965
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("install the job tables: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key) }()
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("install River's job tables in the state's schema: %w", err)
	}
	return nil
}

// queues are the queues this member works.
func (m *Member) queues() map[string]river.QueueConfig {
	q := map[string]river.QueueConfig{dispatchQueue: {MaxWorkers: 1}}
	if len(m.opts.Sites) == 0 {
		q[DefaultQueue] = river.QueueConfig{MaxWorkers: m.opts.Workers}
	}
	for _, s := range m.opts.Sites {
		q[SitePrefix+s] = river.QueueConfig{MaxWorkers: m.opts.Workers}
	}
	return q
}

func (m *Member) newClient() (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &dispatchWorker{m: m})
	river.AddWorker(workers, &collectWorker{m: m})
	client, err := river.NewClient(riverpgxv5.New(m.pool), &river.Config{
		ID:                          m.id,
		Queues:                      m.queues(),
		Workers:                     workers,
		JobTimeout:                  m.opts.JobTimeout,
		RescueStuckJobsAfter:        m.opts.JobTimeout + rescueMargin,
		CompletedJobRetentionPeriod: retention,
		CancelledJobRetentionPeriod: retention,
		DiscardedJobRetentionPeriod: retention,
		MaxAttempts:                 3,
		Logger:                      slog.New(quieter{m.log.Handler()}).With("component", "river"),
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(slotSchedule{m.fleet.Tick}, m.dispatchArgs, &river.PeriodicJobOpts{ID: "cscs-dispatch", RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("prepare the cluster's job client: %w", err)
	}
	return client, nil
}

// Run works jobs and beats until ctx ends, then ends the rounds in
// progress (they stop collecting at once and store what they got),
// leaves the cluster and closes. An error is returned when the job client
// cannot start.
func (m *Member) Run(ctx context.Context) error {
	defer m.Close()
	if err := m.client.Start(ctx); err != nil {
		return fmt.Errorf("start the cluster's job client: %w", err)
	}
	m.log.Info("joined the cluster", "member", m.id, "sites", m.opts.Sites, "chunk", m.opts.Chunk)
	t := time.NewTicker(Heartbeat)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case now := <-t.C:
			if err := m.st.MemberSeen(ctx, m.id, now, now.Add(-forgetAfter)); err != nil && ctx.Err() == nil {
				m.log.Warn("cluster heartbeat failed", "error", err)
				continue
			}
			m.beat.Store(now.UnixNano())
		}
	}
	// The rounds in progress stop collecting at once, as a round told to
	// stop does: what they collected is stored, the hosts not finished are
	// recorded as cancelled, and their jobs end (not handed to another
	// instance, which would collect their hosts twice in the interval).
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.JobTimeout)
	defer cancel()
	if err := m.client.StopAndCancel(stopCtx); err != nil {
		m.log.Warn("the cluster's job client did not stop cleanly", "error", err)
	}
	if err := m.st.LeaveCluster(stopCtx, m.id); err != nil {
		m.log.Warn("leaving the cluster", "error", err)
	}
	return nil
}

// LastBeat is when the member last wrote its heartbeat (or joined) in
// the shared state.
func (m *Member) LastBeat() time.Time {
	if n := m.beat.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Close releases the member's connections.
func (m *Member) Close() {
	if m.pool != nil {
		m.pool.Close()
	}
	if m.st != nil {
		_ = m.st.Close()
	}
}

// quieter passes River's warnings and errors on to the service's log,
// not its routine lines (job counts every few seconds).
type quieter struct{ slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quieter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quieter{q.Handler.WithAttrs(attrs)}
}
func (q quieter) WithGroup(name string) slog.Handler { return quieter{q.Handler.WithGroup(name)} }

// slotSchedule fires at the start of every interval: the multiples of
// the tick since the Unix epoch, so every instance agrees on them.
type slotSchedule struct{ tick func() time.Duration }

func (s slotSchedule) Next(current time.Time) time.Time {
	return slotOf(current, s.tick()).Add(s.tick())
}

// slotOf is the start of the interval of length tick holding t.
func slotOf(t time.Time, tick time.Duration) time.Time {
	return time.Unix(0, t.UnixNano()-t.UnixNano()%int64(tick))
}
