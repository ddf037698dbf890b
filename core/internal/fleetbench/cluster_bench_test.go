//go:build linux

package fleetbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cscs-dev/cscs/core/internal/syncbuf"
	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// BenchmarkCluster's defaults.
const (
	clusterHosts = 300
	// clusterTick is --interval: long enough for one instance to collect
	// the fleet with room to spare on 2 busy cores.
	clusterTick = 15 * time.Second
	// clusterIntervals are measured per case, after a warm-up (the hosts'
	// platforms detected, the processes started).
	clusterIntervals = 3
	// clusterCases: plain `cscs serve`, a cluster of 1, the same with
	// the whole fleet in one job per interval (what a job of
	// DefaultChunk hosts costs beyond River), then clusters of 2 and 3.
	clusterCases = "plain,1,1:all,2,3"
	// intervalLead: an interval's CPU is read from this much before its
	// start, so that what its round does before the first host counts.
	intervalLead = 300 * time.Millisecond
	// idleAfter: an interval is idle from this long after its last host
	// (the rounds' alerts, storing and plugin shutdown come after it).
	idleAfter = 3 * time.Second
)

// clusterCase is one configuration of BenchmarkCluster: plain serve
// (instances 0) or a cluster of instances, with --cluster-chunk chunk
// (0: the default; -1: every host in one job).
type clusterCase struct {
	name      string
	instances int
	chunk     int
}

// parseClusterCases reads "plain,1,2,3": plain serve, or a number of
// instances, optionally with a chunk ("1:300"; "1:all" for every host in
// one job).
func parseClusterCases(v string) ([]clusterCase, error) {
	var out []clusterCase
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "plain" {
			out = append(out, clusterCase{name: "plain serve"})
			continue
		}
		n, chunk, hasChunk := strings.Cut(f, ":")
		c := clusterCase{}
		var err error
		if c.instances, err = strconv.Atoi(n); err != nil || c.instances < 1 {
			return nil, fmt.Errorf("case %q: want plain, a number of instances, or instances:chunk", f)
		}
		c.name = fmt.Sprintf("cluster N=%d", c.instances)
		switch {
		case chunk == "all":
			c.chunk = -1
			c.name += " chunk all"
		case hasChunk:
			if c.chunk, err = strconv.Atoi(chunk); err != nil || c.chunk < 1 {
				return nil, fmt.Errorf("case %q: want a chunk of 1 or more hosts", f)
			}
			c.name += fmt.Sprintf(" chunk %d", c.chunk)
		}
		out = append(out, c)
	}
	return out, nil
}

func TestParseClusterCases(t *testing.T) {
	got, err := parseClusterCases("plain, 1,3:300,1:all")
	if err != nil {
		t.Fatal(err)
	}
	want := []clusterCase{{name: "plain serve"}, {name: "cluster N=1", instances: 1}, {name: "cluster N=3 chunk 300", instances: 3, chunk: 300},
		{name: "cluster N=1 chunk all", instances: 1, chunk: -1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseClusterCases = %v, want %v", got, want)
	}
	for _, bad := range []string{"0", "x", "2:0", "plain:3"} {
		if _, err := parseClusterCases(bad); err == nil {
			t.Errorf("parseClusterCases(%q) succeeded", bad)
		}
	}
}

// BenchmarkCluster runs `cscs serve --cluster` with 1, 2 and 3 instances,
// and plain `cscs serve`, as processes of the built binary against a
// fleet of FLEETBENCH_CLUSTER_HOSTS in-process SSH hosts served by a
// child process, with the state and the storage on PostgreSQL (two
// databases of their own, so that their transactions can be counted),
// every FLEETBENCH_CLUSTER_INTERVAL. After a warm-up it measures
// FLEETBENCH_CLUSTER_INTERVALS intervals of each case
// (FLEETBENCH_CLUSTER_CASES, such as "plain,1,2,3" or "1:300" for one
// instance with 300 hosts a job): when, from the interval's start (the
// cluster's slot, plain serve's round start), the first host started and
// the last finished (from the storage's collections); the CPU of the cscs
// processes with their plugin processes, of the PostgreSQL backends of
// their state and storage sessions, of the fleet and of the machine; the
// River jobs and the databases' transactions. The difference between a
// cluster of one and plain serve is the cluster's coordination cost.
// `make bench-cluster` runs it (about 5 minutes on 2 cores).
func BenchmarkCluster(b *testing.B) {
	hosts := envInt(b, "FLEETBENCH_CLUSTER_HOSTS", clusterHosts)
	intervals := envInt(b, "FLEETBENCH_CLUSTER_INTERVALS", clusterIntervals)
	tick := clusterTick
	if v := os.Getenv("FLEETBENCH_CLUSTER_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			b.Fatalf("FLEETBENCH_CLUSTER_INTERVAL=%q: want a duration of a second or more, such as 20s", v)
		}
		tick = d
	}
	spec := clusterCases
	if v := os.Getenv("FLEETBENCH_CLUSTER_CASES"); v != "" {
		spec = v
	}
	cases, err := parseClusterCases(spec)
	if err != nil {
		b.Fatalf("FLEETBENCH_CLUSTER_CASES: %v", err)
	}
	ctx := context.Background()
	pg := newBenchPG(b)
	bin := sdktest.Build(b, "github.com/cscs-dev/cscs/core/cmd/cscs")
	fleet, env, agentDir := warmChildFleet(b, ctx, hosts)
	fmt.Printf("\n%d in-process hosts (child process), interval %s, %d measured intervals per case; state and storage on PostgreSQL\n",
		hosts, tick, intervals)

	var results []clusterResult
	for i, c := range cases {
		r := runClusterCase(b, ctx, clusterRun{
			c: c, index: i, hosts: hosts, tick: tick, intervals: intervals,
			bin: bin, agentDir: agentDir, config: env.config, knownHosts: fleet.KnownHosts, fleetPID: fleet.cmd.Process.Pid, pg: pg,
		})
		results = append(results, r)
		fmt.Println()
		mustDo(b, writeClusterIntervals(os.Stdout, r))
	}
	fmt.Println()
	mustDo(b, writeClusterTable(os.Stdout, results))
	for _, r := range results {
		s := r.summary()
		unit := strings.NewReplacer(" ", "", "=", "")
		b.ReportMetric(msPer(s.CSCS, s.Collected), unit.Replace(r.Case.name)+"-cpu-ms/host")
		b.ReportMetric(s.Work.Seconds(), unit.Replace(r.Case.name)+"-work-s")
	}
}

// benchPG is the PostgreSQL server of the benchmark with two databases of
// its own, one for the state and one for the storage, dropped at the end.
type benchPG struct {
	server           string
	stateDB, storeDB string
	mon              *pgx.Conn
	// postmaster is the server's main process (on this machine).
	postmaster int
	// ownState and ownStore count the benchmark's transactions on them.
	ownState, ownStore atomic.Int64
}

func newBenchPG(b *testing.B) *benchPG {
	b.Helper()
	pg := &benchPG{server: pgtest.ServerDSN()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mon, err := pgx.Connect(ctx, dsnWith(b, pg.server, "", "", appMonitor))
	if err != nil {
		b.Skipf("PostgreSQL unreachable (%v): start one on 127.0.0.1:5432 or set %s", err, pgtest.EnvDSN)
	}
	pg.mon = mon
	b.Cleanup(func() { mon.Close(context.Background()) })
	var backend int
	mustDo(b, mon.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend))
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backend))
	if err != nil {
		b.Skipf("the PostgreSQL server's processes cannot be read (%v): the benchmark needs a local server and the right to read its /proc entries (root, or its user)", err)
	}
	if pg.postmaster, err = parentPID(data); err != nil {
		b.Fatal(err)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	base := "cscsbench_" + hex.EncodeToString(suffix[:])
	pg.stateDB, pg.storeDB = base+"_state", base+"_store"
	for _, db := range []string{pg.stateDB, pg.storeDB} {
		if _, err := mon.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			b.Fatalf("create database %s: %v", db, err)
		}
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := mon.Exec(ctx, "DROP DATABASE "+db+" WITH (FORCE)"); err != nil {
				b.Errorf("drop database %s: %v", db, err)
			}
		})
	}
	return pg
}

// dsnWith is server's DSN for database db (unchanged when empty), with
// search_path schema (none when empty) and the application name app.
func dsnWith(b *testing.B, server, db, schema, app string) string {
	b.Helper()
	u, err := url.Parse(server)
	if err != nil {
		b.Fatalf("PostgreSQL DSN: %v", err)
	}
	if db != "" {
		u.Path = "/" + db
	}
	q := u.Query()
	if schema != "" {
		q.Set("options", "-c search_path="+schema)
	}
	q.Set("application_name", app)
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// parentPID is the parent's pid in a /proc/<pid>/stat line.
func parentPID(stat []byte) (int, error) {
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) < 2 {
		return 0, fmt.Errorf("/proc stat line without a parent: %q", stat)
	}
	return strconv.Atoi(f[1])
}

// localPort is the client port of a connection.
func localPort(c *pgx.Conn) string {
	_, port, _ := net.SplitHostPort(c.PgConn().Conn().LocalAddr().String())
	return port
}

// clusterRun is what runClusterCase needs.
type clusterRun struct {
	c                       clusterCase
	index, hosts, intervals int
	tick                    time.Duration
	bin, agentDir, config   string
	knownHosts              []byte
	fleetPID                int
	pg                      *benchPG
}

// runClusterCase starts the case's processes on fresh schemas, waits for
// the warm-up, measures r.intervals intervals, stops the processes and
// reads the figures.
func runClusterCase(b *testing.B, ctx context.Context, r clusterRun) clusterResult {
	b.Helper()
	schema := fmt.Sprintf("case%d", r.index)
	for _, db := range []string{r.pg.stateDB, r.pg.storeDB} {
		conn, err := pgx.Connect(ctx, dsnWith(b, r.pg.server, db, "", appMonitor))
		mustDo(b, err)
		_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
		conn.Close(ctx)
		mustDo(b, err)
	}
	// The schema's creation is the benchmark's, not the processes'.
	r.pg.ownState.Add(1)
	r.pg.ownStore.Add(1)
	stateDSN := dsnWith(b, r.pg.server, r.pg.stateDB, schema, appState)
	storeDSN := dsnWith(b, r.pg.server, r.pg.storeDB, schema, appStore)
	// The benchmark's own sessions: polling the storage, reading River's
	// jobs at the end.
	store, err := pgx.Connect(ctx, dsnWith(b, r.pg.server, r.pg.storeDB, schema, appMonitor))
	mustDo(b, err)
	defer store.Close(ctx)

	n := max(r.c.instances, 1)
	procs := make([]*clusterProc, n)
	for i := range procs {
		dataDir := filepath.Join(b.TempDir(), "data")
		mustDo(b, os.MkdirAll(dataDir, 0o700))
		mustDo(b, os.WriteFile(filepath.Join(dataDir, "known_hosts"), r.knownHosts, 0o600))
		args := []string{"serve", "--config", r.config, "--data-dir", dataDir, "--agent-dir", r.agentDir,
			"--state", stateDSN, "--db", storeDSN, "--interval", r.tick.String(), "--cpu-sample", cpuSample.String(),
			"--connect-timeout", "10s", "--handshake-timeout", "20s", "--host-timeout", "60s",
			"--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "warn"}
		if r.c.instances > 0 {
			args = append(args, "--cluster")
			switch {
			case r.c.chunk < 0:
				args = append(args, "--cluster-chunk", strconv.Itoa(r.hosts))
			case r.c.chunk > 0:
				args = append(args, "--cluster-chunk", strconv.Itoa(r.c.chunk))
			}
		}
		procs[i] = startClusterProc(b, r.bin, args)
	}
	logs := func() string {
		var s strings.Builder
		for i, p := range procs {
			var kept []string
			for _, l := range strings.Split(p.log.String(), "\n") {
				if !strings.Contains(l, "the mail attribute is missing") { // every client's, at start
					kept = append(kept, l)
				}
			}
			fmt.Fprintf(&s, "--- instance %d:\n%s\n", i+1, tail(strings.Join(kept, "\n"), 4000))
		}
		return s.String()
	}
	pids := make([]int, n)
	for i, p := range procs {
		pids[i] = p.cmd.Process.Pid
	}
	smp := &sampler{serve: pids, fleetPID: r.fleetPID, postmaster: r.pg.postmaster, mon: r.pg.mon, stateDB: r.pg.stateDB, storeDB: r.pg.storeDB,
		ownPorts: map[string]bool{localPort(store): true}, ownState: &r.pg.ownState, ownStore: &r.pg.ownStore}
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); smp.run(sctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopSampling()
		<-sampled
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for i, p := range procs {
			select {
			case <-p.exited:
			case <-time.After(30 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
				b.Errorf("%s: instance %d did not stop within 30 s of SIGTERM", r.c.name, i+1)
			}
		}
	}
	defer stop()

	q := storeQuerier{conn: store, own: &r.pg.ownStore}
	var starts []time.Time // the measured intervals' starts
	if r.c.instances == 0 {
		// Plain serve: the first round detects the platforms; the next
		// intervals rounds are measured.
		rounds := waitRounds(b, ctx, q, r, r.intervals+1, logs)
		for _, rd := range rounds[1:] {
			starts = append(starts, rd.firstStart)
		}
	} else {
		// A cluster: every host collected once (the warm-up), then the
		// intervals slots that start after that.
		waitUntil(b, ctx, 3*r.tick+time.Minute, func() (bool, error) {
			var ok int
			err := q.row(ctx, `SELECT count(DISTINCT host_id) FROM collections WHERE status = 'ok'`).Scan(&ok)
			return ok == r.hosts, err
		}, func() string { return r.c.name + ": the warm-up did not collect every host\n" + logs() })
		first := slotStart(time.Now(), r.tick).Add(r.tick)
		for i := range r.intervals {
			starts = append(starts, first.Add(time.Duration(i)*r.tick))
		}
		last := starts[len(starts)-1]
		waitUntil(b, ctx, time.Until(last)+2*r.tick, func() (bool, error) {
			if time.Now().Before(last) {
				return false, nil
			}
			var ok int
			err := q.row(ctx, `SELECT count(DISTINCT host_id) FROM collections WHERE status = 'ok' AND started_at >= $1`, last).Scan(&ok)
			return ok == r.hosts, err
		}, func() string { return r.c.name + ": the last measured interval did not collect every host\n" + logs() })
	}
	// Every window is a whole interval long, its idle end included.
	end := starts[len(starts)-1].Add(r.tick - intervalLead)
	time.Sleep(time.Until(end) + samplePeriod)
	stop()
	points, err := smp.series()
	mustDo(b, err)
	if len(points) == 0 {
		b.Fatalf("%s: no CPU readings", r.c.name)
	}

	res := clusterResult{Case: r.c, Hosts: r.hosts, Tick: r.tick}
	state, err := pgx.Connect(ctx, dsnWith(b, r.pg.server, r.pg.stateDB, schema, appMonitor))
	mustDo(b, err)
	defer state.Close(ctx)
	for _, start := range starts {
		iv := clusterInterval{Start: start}
		var firstStart, lastEnd time.Time
		if r.c.instances == 0 {
			mustDo(b, store.QueryRow(ctx, `SELECT count(DISTINCT host_id) FILTER (WHERE status = 'ok'), count(DISTINCT round_id), min(started_at), max(finished_at)
				FROM collections WHERE round_id = (SELECT round_id FROM collections GROUP BY round_id HAVING min(started_at) = $1)`, start).
				Scan(&iv.Collected, &iv.Rounds, &firstStart, &lastEnd))
		} else {
			mustDo(b, store.QueryRow(ctx, `SELECT count(DISTINCT host_id) FILTER (WHERE status = 'ok'), count(DISTINCT round_id), min(started_at), max(finished_at)
				FROM collections WHERE started_at >= $1 AND started_at < $2`, start, start.Add(r.tick)).
				Scan(&iv.Collected, &iv.Rounds, &firstStart, &lastEnd))
			var dispatched *time.Time
			var waitSecs *float64
			mustDo(b, state.QueryRow(ctx, `SELECT count(*),
				min(attempted_at) FILTER (WHERE kind = 'cscs_dispatch'),
				percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - created_at)::float8) FILTER (WHERE kind = 'cscs_collect')
				FROM river_job WHERE (args->>'slot')::bigint = $1`, start.UnixNano()).Scan(&iv.Jobs, &dispatched, &waitSecs))
			if dispatched != nil {
				iv.Dispatched = dispatched.Sub(start)
			}
			if waitSecs != nil {
				iv.JobWait = time.Duration(*waitSecs * float64(time.Second))
			}
		}
		if iv.Collected != r.hosts {
			b.Errorf("%s: the interval at %s collected %d of %d hosts\n%s", r.c.name, start.Format(time.TimeOnly), iv.Collected, r.hosts, logs())
		}
		iv.FirstHost, iv.Work = firstStart.Sub(start), lastEnd.Sub(start)
		winEnd := start.Add(r.tick - intervalLead)
		iv.Spent = between(points, start.Add(-intervalLead), winEnd)
		if idleFrom := lastEnd.Add(idleAfter); winEnd.Sub(idleFrom) >= 2*time.Second {
			idle := between(points, idleFrom, winEnd)
			iv.Idle = float64(idle.cscs.Microseconds()) / 1000 / winEnd.Sub(idleFrom).Seconds()
		}
		res.Intervals = append(res.Intervals, iv)
	}
	if r.c.instances > 0 {
		slots := make([]int64, len(starts))
		for i, s := range starts {
			slots[i] = s.UnixNano()
		}
		byMember := map[int]int{}
		rows, err := state.Query(ctx, `SELECT attempted_by[array_length(attempted_by, 1)], count(*) FROM river_job
			WHERE kind = 'cscs_collect' AND (args->>'slot')::bigint = ANY($1) GROUP BY 1`, slots)
		mustDo(b, err)
		for rows.Next() {
			var member *string
			var count int
			mustDo(b, rows.Scan(&member, &count))
			for i, pid := range pids {
				if member != nil && strings.Contains(*member, "-"+strconv.Itoa(pid)+"-") {
					byMember[i] += count
				}
			}
		}
		rows.Close()
		mustDo(b, rows.Err())
		for i := range pids {
			res.JobsByMember = append(res.JobsByMember, byMember[i])
		}
	}
	return res
}

// clusterProc is one `cscs serve` process of a case.
type clusterProc struct {
	cmd    *exec.Cmd
	log    *syncbuf.Buffer
	exited chan error
}

func startClusterProc(b *testing.B, bin string, args []string) *clusterProc {
	b.Helper()
	p := &clusterProc{cmd: exec.Command(bin, args...), log: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	p.cmd.Stderr = p.log
	mustDo(b, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	b.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// storeQuerier runs the benchmark's queries on the storage, counting them.
type storeQuerier struct {
	conn *pgx.Conn
	own  *atomic.Int64
}

func (q storeQuerier) row(ctx context.Context, sql string, args ...any) pgx.Row {
	q.own.Add(1)
	return q.conn.QueryRow(ctx, sql, args...)
}

// plainRound is one round of plain serve in the storage.
type plainRound struct {
	firstStart time.Time
	ok         int
}

// waitRounds waits until plain serve has stored want rounds of every
// host and returns them in order.
func waitRounds(b *testing.B, ctx context.Context, q storeQuerier, r clusterRun, want int, logs func() string) []plainRound {
	b.Helper()
	var rounds []plainRound
	waitUntil(b, ctx, time.Duration(want+1)*r.tick+time.Minute, func() (bool, error) {
		q.own.Add(1)
		rows, err := q.conn.Query(ctx, `SELECT min(started_at), count(DISTINCT host_id) FILTER (WHERE status = 'ok')
			FROM collections GROUP BY round_id ORDER BY 1`)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		rounds = rounds[:0]
		for rows.Next() {
			var rd plainRound
			if err := rows.Scan(&rd.firstStart, &rd.ok); err != nil {
				return false, err
			}
			rounds = append(rounds, rd)
		}
		if err := rows.Err(); err != nil {
			return false, err
		}
		return len(rounds) >= want && rounds[want-1].ok == r.hosts, nil
	}, func() string {
		return fmt.Sprintf("%s: %d of %d rounds stored\n%s", r.c.name, len(rounds), want, logs())
	})
	for i, rd := range rounds[:want] {
		if rd.ok != r.hosts {
			b.Fatalf("%s: round %d collected %d of %d hosts\n%s", r.c.name, i+1, rd.ok, r.hosts, logs())
		}
	}
	return rounds[:want]
}

// waitUntil polls done every second until it reports true, failing b
// with what() after bound or on an error.
func waitUntil(b *testing.B, ctx context.Context, bound time.Duration, done func() (bool, error), what func() string) {
	b.Helper()
	deadline := time.Now().Add(bound)
	for {
		ok, err := done()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			err = nil // no round stored yet: the storage is created by the first
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			b.Fatalf("%v\n%s", err, what())
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %s: %s", bound.Round(time.Second), what())
		}
		select {
		case <-ctx.Done():
			b.Fatal(ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// slotStart is the start of the cluster's interval of length tick
// holding t: the multiples of tick since the Unix epoch (as package
// cluster counts them).
func slotStart(t time.Time, tick time.Duration) time.Time {
	return time.Unix(0, t.UnixNano()-t.UnixNano()%int64(tick))
}
