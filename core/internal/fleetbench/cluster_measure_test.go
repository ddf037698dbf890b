//go:build linux

package fleetbench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// What BenchmarkCluster measures of the processes taking part, sampled
// every samplePeriod and cut into intervals afterwards.

// samplePeriod is how often the sampler reads the processes' CPU: often,
// because a PostgreSQL backend's CPU can only be read while it lives (one
// that ends is reaped by the postmaster), and the sessions of a round's
// storage and state end with the round, right after their busiest part.
// Up to samplePeriod of each ended backend's last CPU is missed.
const samplePeriod = 25 * time.Millisecond

// xactEvery is how many samples apart the databases' transaction counts
// are read.
const xactEvery = 10

// Application names the benchmark gives the PostgreSQL sessions of the
// cscs processes and its own (in the DSNs), to recognise them in
// pg_stat_activity when looking by hand.
const (
	appState   = "cscsbench_state"
	appStore   = "cscsbench_store"
	appMonitor = "cscsbench_monitor"
)

// cpuPoint is one reading: cumulative CPU of each party since the sampler
// started following it, and cumulative transactions of the two databases.
type cpuPoint struct {
	at time.Time
	// cscs is the serve processes' CPU with their waited-for children
	// (the plugin processes of finished rounds).
	cscs time.Duration
	// pgState and pgStore are the PostgreSQL backends of the state
	// database (River's tables are there) and of the storage's: the
	// postmaster's children whose process title names that database,
	// the benchmark's own sessions excepted.
	pgState, pgStore time.Duration
	// fleet is the child fleet's CPU with its hosts' commands (agents).
	fleet time.Duration
	// machine is the whole machine's busy CPU.
	machine time.Duration
	// xactState and xactStore are pg_stat_database's committed and rolled
	// back transactions of the two databases, less the benchmark's own.
	xactState, xactStore int64
}

// backendKey names one backend process (pid reuse aside).
type backendKey struct {
	pid   int
	start uint64
}

// Which database a backend serves.
const (
	dbUnknown = iota // not yet known: its title is not set yet
	dbOther
	dbState
	dbStore
)

// sampler follows the CPU of the serve processes, their PostgreSQL
// backends, the fleet and the machine.
type sampler struct {
	serve    []int
	fleetPID int
	// postmaster is the PostgreSQL server's main process, whose children
	// are the backends.
	postmaster int
	mon        *pgx.Conn
	stateDB    string
	storeDB    string
	// ownPorts are the client ports of the benchmark's own sessions on
	// the two databases, not counted.
	ownPorts map[string]bool
	// ownState and ownStore count the benchmark's own transactions on
	// the two databases (its polling), subtracted from the figures.
	ownState, ownStore *atomic.Int64

	mu       sync.Mutex
	points   []cpuPoint
	ticks    int
	xact     [2]int64
	last     map[int]time.Duration // last reading of each serve process
	backends map[backendKey]time.Duration
	dbOf     map[backendKey]int
	err      error
}

// run samples until ctx ends.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(samplePeriod)
	defer t.Stop()
	for {
		if err := s.sample(ctx); err != nil && ctx.Err() == nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sampler) sample(ctx context.Context) error {
	at := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last, s.backends, s.dbOf = map[int]time.Duration{}, map[backendKey]time.Duration{}, map[backendKey]int{}
	}
	p := cpuPoint{at: at}
	for _, pid := range s.serve {
		if self, kids, _, err := procCPU(pid); err == nil {
			s.last[pid] = self + kids
		}
		p.cscs += s.last[pid]
	}
	if self, kids, _, err := procCPU(s.fleetPID); err == nil {
		p.fleet = self + kids
	}
	if m, err := machineBusy(); err == nil {
		p.machine = m
	}
	if err := s.readBackends(); err != nil {
		return err
	}
	for k, cpu := range s.backends {
		switch s.dbOf[k] {
		case dbState:
			p.pgState += cpu
		case dbStore:
			p.pgStore += cpu
		}
	}
	if s.ticks%xactEvery == 0 {
		if err := s.readXacts(ctx); err != nil {
			return err
		}
	}
	s.ticks++
	p.xactState, p.xactStore = s.xact[0], s.xact[1]
	s.points = append(s.points, p)
	return nil
}

// readBackends reads the CPU of the postmaster's children that serve the
// two databases.
func (s *sampler) readBackends() error {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", s.postmaster, s.postmaster))
	if err != nil {
		return fmt.Errorf("list PostgreSQL's backends: %w", err)
	}
	for _, f := range bytes.Fields(data) {
		pid, err := strconv.Atoi(string(f))
		if err != nil {
			continue
		}
		self, _, start, err := procCPU(pid)
		if err != nil {
			continue // ended since: its last reading stays
		}
		k := backendKey{pid, start}
		db := s.dbOf[k]
		if db == dbUnknown {
			title, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err != nil {
				continue
			}
			db = s.classify(string(bytes.ReplaceAll(title, []byte{0}, []byte{' '})))
			s.dbOf[k] = db
		}
		if db == dbState || db == dbStore {
			s.backends[k] = self
		}
	}
	return nil
}

// classify tells from a backend's process title ("postgres: 15/main: user
// database 127.0.0.1(port) idle") which database it serves.
func (s *sampler) classify(title string) int {
	f := strings.Fields(title)
	for i, w := range f {
		if i == 0 || (w != s.stateDB && w != s.storeDB) {
			continue
		}
		// The client's port, in the word after the database: the
		// benchmark's own sessions do not count.
		if i+1 < len(f) {
			if _, port, ok := strings.Cut(f[i+1], "("); ok && s.ownPorts[strings.TrimSuffix(port, ")")] {
				return dbOther
			}
		}
		if w == s.stateDB {
			return dbState
		}
		return dbStore
	}
	if strings.HasPrefix(title, "postgres: ") {
		return dbOther // another database's backend, or a server process
	}
	return dbUnknown // forked, its title not set yet: look again
}

// readXacts reads the two databases' transaction counts, less the
// benchmark's own.
func (s *sampler) readXacts(ctx context.Context) error {
	// The benchmark's own transactions first, so that one it runs while
	// this reads is not subtracted before PostgreSQL counted it.
	ownState, ownStore := s.ownState.Load(), s.ownStore.Load()
	rows, err := s.mon.Query(ctx, `SELECT datname, xact_commit + xact_rollback FROM pg_stat_database WHERE datname IN ($1, $2)`, s.stateDB, s.storeDB)
	if err != nil {
		return fmt.Errorf("read pg_stat_database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return err
		}
		if name == s.stateDB {
			s.xact[0] = n - ownState
		} else {
			s.xact[1] = n - ownStore
		}
	}
	return rows.Err()
}

// series returns the readings so far and the first sampling error.
func (s *sampler) series() ([]cpuPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cpuPoint(nil), s.points...), s.err
}

// pointAt is the last reading at or before t (the first one when none
// is).
func pointAt(points []cpuPoint, t time.Time) cpuPoint {
	i := sort.Search(len(points), func(i int) bool { return points[i].at.After(t) })
	if i == 0 {
		return points[0]
	}
	return points[i-1]
}

// between is what each party spent from the reading before from to the
// reading before to.
func between(points []cpuPoint, from, to time.Time) cpuPoint {
	a, b := pointAt(points, from), pointAt(points, to)
	return cpuPoint{at: b.at, cscs: b.cscs - a.cscs, pgState: b.pgState - a.pgState, pgStore: b.pgStore - a.pgStore,
		fleet: b.fleet - a.fleet, machine: b.machine - a.machine, xactState: b.xactState - a.xactState, xactStore: b.xactStore - a.xactStore}
}

// procCPU reads /proc/<pid>/stat: the process's own CPU (utime + stime),
// that of its waited-for children (cutime + cstime) and its start time
// in clock ticks since boot.
func procCPU(pid int) (self, children time.Duration, start uint64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	return parseProcStat(data)
}

// parseProcStat parses a /proc/<pid>/stat line (see proc(5)); the command
// name, in parentheses, may hold spaces and parentheses.
func parseProcStat(data []byte) (self, children time.Duration, start uint64, err error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("/proc stat line without a command name: %q", data)
	}
	f := bytes.Fields(data[i+1:])
	// f[0] is field 3 (state): utime is field 14, starttime field 22.
	if len(f) < 20 {
		return 0, 0, 0, fmt.Errorf("/proc stat line with %d fields after the command name, want 20 or more", len(f))
	}
	var v [5]uint64
	for j, idx := range []int{11, 12, 13, 14, 19} {
		if v[j], err = strconv.ParseUint(string(f[idx]), 10, 64); err != nil {
			return 0, 0, 0, fmt.Errorf("/proc stat field %d: %w", idx+3, err)
		}
	}
	tick := func(n uint64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return tick(v[0] + v[1]), tick(v[2] + v[3]), v[4], nil
}

func TestParseProcStat(t *testing.T) {
	line := []byte("4242 (cscs (serve) x) S 1 4242 4242 0 -1 4194560 1 2 3 4 150 25 30 5 20 0 12 0 987654 1000 10 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
	self, kids, start, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if self != 1750*time.Millisecond || kids != 350*time.Millisecond || start != 987654 {
		t.Errorf("parseProcStat = %s, %s, %d; want 1.75s, 350ms, 987654", self, kids, start)
	}
	if _, _, _, err := parseProcStat([]byte("1 (x) S 1 2")); err == nil {
		t.Error("a short line parsed")
	}
	// The running test's own line parses.
	if _, _, start, err := procCPU(os.Getpid()); err != nil || start == 0 {
		t.Errorf("procCPU(self) = start %d, %v", start, err)
	}
}

func TestClassifyBackend(t *testing.T) {
	s := &sampler{stateDB: "cscsbench_1_state", storeDB: "cscsbench_1_store", ownPorts: map[string]bool{"40000": true}}
	for title, want := range map[string]int{
		"postgres: 15/main: postgres cscsbench_1_state 127.0.0.1(41234) idle":        dbState,
		"postgres: 15/main: postgres cscsbench_1_store 127.0.0.1(41235) INSERT":      dbStore,
		"postgres: 15/main: postgres cscsbench_1_store 127.0.0.1(40000) idle":        dbOther,
		"postgres: 15/main: autovacuum worker cscsbench_1_store":                     dbStore,
		"postgres: 15/main: postgres test 127.0.0.1(41236) idle":                     dbOther,
		"postgres: 15/main: checkpointer ":                                           dbOther,
		"/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c x=y ": dbUnknown,
	} {
		if got := s.classify(title); got != want {
			t.Errorf("classify(%q) = %d, want %d", title, got, want)
		}
	}
}

func TestBetween(t *testing.T) {
	t0 := time.Unix(1000, 0)
	points := []cpuPoint{
		{at: t0, cscs: 1 * time.Second, xactState: 10},
		{at: t0.Add(time.Second), cscs: 3 * time.Second, xactState: 15},
		{at: t0.Add(2 * time.Second), cscs: 4 * time.Second, xactState: 30},
	}
	d := between(points, t0.Add(500*time.Millisecond), t0.Add(2500*time.Millisecond))
	if d.cscs != 3*time.Second || d.xactState != 20 {
		t.Errorf("between = %s, %d xacts; want 3s, 20", d.cscs, d.xactState)
	}
	if d := between(points, t0.Add(-time.Second), t0); d.cscs != 0 {
		t.Errorf("between before the first reading = %s, want 0", d.cscs)
	}
}

// clusterInterval is one measured interval of a case: a slot of the
// cluster, or one round of plain serve.
type clusterInterval struct {
	// Start is the slot's start, or the round's first host's start
	// (plain serve).
	Start time.Time
	// Collected counts the hosts collected ok in it.
	Collected int
	// FirstHost and Work are how long after Start the first host started
	// and the last one finished.
	FirstHost, Work time.Duration
	// Rounds is the rounds (collect jobs) the hosts were collected in;
	// Jobs the River jobs of the slot (dispatch and collect).
	Rounds, Jobs int
	// Dispatched is how long after Start the dispatch job started (0 for
	// plain serve); JobWait the median wait of a collect job between its
	// insertion and its start.
	Dispatched, JobWait time.Duration
	// Spent is what each party spent in the interval (Start less
	// intervalLead to the next Start less intervalLead).
	Spent cpuPoint
	// Idle is the serve processes' CPU per second of the interval's idle
	// part (idleAfter after its last host to its end): River's polling,
	// heartbeats, the HTTP server.
	Idle float64
}

// clusterResult is one case of BenchmarkCluster.
type clusterResult struct {
	Case      clusterCase
	Hosts     int
	Tick      time.Duration
	Intervals []clusterInterval
	// JobsByMember counts the collect jobs each instance worked in the
	// measured intervals.
	JobsByMember []int
}

// clusterSummary is a case's medians over its intervals.
type clusterSummary struct {
	Collected                          int
	Work, FirstHost, Dispatched, Wait  time.Duration
	CSCS, PGState, PGStore, Fleet, Mch time.Duration
	XactState, XactStore               int64
	Jobs, Rounds                       int
	Idle                               float64
}

func medianOf[T time.Duration | int64 | int | float64](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := append([]T(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

// summary is the median of every figure over the intervals.
func (r clusterResult) summary() clusterSummary {
	pick := func(f func(clusterInterval) time.Duration) time.Duration {
		var v []time.Duration
		for _, iv := range r.Intervals {
			v = append(v, f(iv))
		}
		return medianOf(v)
	}
	pickInt := func(f func(clusterInterval) int64) int64 {
		var v []int64
		for _, iv := range r.Intervals {
			v = append(v, f(iv))
		}
		return medianOf(v)
	}
	var idle []float64
	for _, iv := range r.Intervals {
		idle = append(idle, iv.Idle)
	}
	return clusterSummary{
		Collected:  int(pickInt(func(i clusterInterval) int64 { return int64(i.Collected) })),
		Work:       pick(func(i clusterInterval) time.Duration { return i.Work }),
		FirstHost:  pick(func(i clusterInterval) time.Duration { return i.FirstHost }),
		Dispatched: pick(func(i clusterInterval) time.Duration { return i.Dispatched }),
		Wait:       pick(func(i clusterInterval) time.Duration { return i.JobWait }),
		CSCS:       pick(func(i clusterInterval) time.Duration { return i.Spent.cscs }),
		PGState:    pick(func(i clusterInterval) time.Duration { return i.Spent.pgState }),
		PGStore:    pick(func(i clusterInterval) time.Duration { return i.Spent.pgStore }),
		Fleet:      pick(func(i clusterInterval) time.Duration { return i.Spent.fleet }),
		Mch:        pick(func(i clusterInterval) time.Duration { return i.Spent.machine }),
		XactState:  pickInt(func(i clusterInterval) int64 { return i.Spent.xactState }),
		XactStore:  pickInt(func(i clusterInterval) int64 { return i.Spent.xactStore }),
		Jobs:       int(pickInt(func(i clusterInterval) int64 { return int64(i.Jobs) })),
		Rounds:     int(pickInt(func(i clusterInterval) int64 { return int64(i.Rounds) })),
		Idle:       medianOf(idle),
	}
}

func msPer(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(n)
}

// writeClusterIntervals prints every measured interval of a case.
func writeClusterIntervals(w io.Writer, r clusterResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s: interval start\thosts\tfirst host s\twork s\trounds\tjobs\tdispatch s\tjob wait s\tcscs CPU s\tPG state CPU s\tPG store CPU s\tfleet CPU s\tmachine CPU s\tstate xacts\tstore xacts\tidle cscs CPU ms/s\t\n", r.Case.name)
	for _, iv := range r.Intervals {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.1f\t\n",
			iv.Start.Format("15:04:05.0"), iv.Collected, iv.FirstHost.Seconds(), iv.Work.Seconds(), iv.Rounds, iv.Jobs,
			iv.Dispatched.Seconds(), iv.JobWait.Seconds(), iv.Spent.cscs.Seconds(), iv.Spent.pgState.Seconds(), iv.Spent.pgStore.Seconds(),
			iv.Spent.fleet.Seconds(), iv.Spent.machine.Seconds(), iv.Spent.xactState, iv.Spent.xactStore, iv.Idle)
	}
	if len(r.JobsByMember) > 0 {
		fmt.Fprintf(tw, "collect jobs worked by each instance in these intervals: %v\t\n", r.JobsByMember)
	}
	return tw.Flush()
}

// writeClusterTable prints one line of medians per case, then the ratios
// to the first cluster case of one instance and to plain serve.
func writeClusterTable(w io.Writer, results []clusterResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tinstances\thosts\tinterval s\twork s\tfirst host s\thosts/s\tcscs CPU ms/host\tPG state ms/host\tPG store ms/host\tfleet ms/host\tmachine CPU s\tjobs\trounds\tstate xacts\tstore xacts\tidle cscs ms/s\t")
	for _, r := range results {
		s := r.summary()
		hps := 0.0
		if s.Work > 0 {
			hps = float64(s.Collected) / s.Work.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%d\t%d\t%.1f\t\n",
			r.Case.name, max(r.Case.instances, 1), s.Collected, r.Tick.Seconds(), s.Work.Seconds(), s.FirstHost.Seconds(), hps,
			msPer(s.CSCS, s.Collected), msPer(s.PGState, s.Collected), msPer(s.PGStore, s.Collected), msPer(s.Fleet, s.Collected),
			s.Mch.Seconds(), s.Jobs, s.Rounds, s.XactState, s.XactStore, s.Idle)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var plain, one *clusterResult
	for i := range results {
		switch {
		case results[i].Case.instances == 0 && plain == nil:
			plain = &results[i]
		case results[i].Case.instances == 1 && results[i].Case.chunk == 0 && one == nil:
			one = &results[i]
		}
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\twork / N=1\tcscs CPU per host / N=1\twork / plain\tcscs CPU per host / plain\tcscs+PG CPU per host / plain\tcscs CPU beyond plain ms/interval\tPG state CPU beyond plain ms/interval\t")
	ratio := func(a, b float64) string {
		if b == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	for _, r := range results {
		s := r.summary()
		perHost := msPer(s.CSCS, s.Collected)
		all := msPer(s.CSCS+s.PGState+s.PGStore, s.Collected)
		line := []string{r.Case.name, "—", "—", "—", "—", "—", "—", "—"}
		if one != nil {
			o := one.summary()
			line[1], line[2] = ratio(s.Work.Seconds(), o.Work.Seconds()), ratio(perHost, msPer(o.CSCS, o.Collected))
		}
		if plain != nil {
			p := plain.summary()
			line[3], line[4] = ratio(s.Work.Seconds(), p.Work.Seconds()), ratio(perHost, msPer(p.CSCS, p.Collected))
			line[5] = ratio(all, msPer(p.CSCS+p.PGState+p.PGStore, p.Collected))
			line[6] = fmt.Sprintf("%.0f", float64((s.CSCS-p.CSCS).Microseconds())/1000)
			line[7] = fmt.Sprintf("%.0f", float64((s.PGState-p.PGState).Microseconds())/1000)
		}
		for _, f := range line {
			fmt.Fprintf(tw, "%s\t", f)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
