package fleetbench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/serve"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// BenchmarkServe's defaults and bounds.
const (
	serveHosts = 2000
	// serveRounds keeps the benchmark under 6 minutes at 2000 hosts on an
	// idle 2-core machine (an interval of ~20 s). A leak grows with rounds,
	// not with time: an hour of `cscs serve` at its default 1m interval is
	// 60 rounds, which FLEETBENCH_SERVE_ROUNDS=60 runs (~20 minutes here).
	serveRounds = 10
	// intervalMargin is the interval over a cached warm-up round's time:
	// a little longer than a round takes.
	intervalMargin = 1.2
	// maxLate is the most a round may start after it is due: the previous
	// start plus the interval, or the previous end when that round took
	// longer than the interval (then serve starts the next one at once;
	// such rounds are counted as overruns).
	maxLate = time.Second
	// maxRSSGrowth is the most the mean RSS of the last third of the
	// rounds may exceed that of the first third, as a fraction.
	maxRSSGrowth = 0.2
)

// serveBounds are what BenchmarkServe fails beyond. Goroutines and file
// descriptors are counted once a round ran down, the fewest seen over up
// to a second (ServeRecorder.Record): the round's own are gone by then
// and what stays is the service, its mailer and the benchmark — 3
// goroutines and 12 descriptors at 200 hosts, the same after every round;
// the mailer's delivery, when it spans the whole second, adds a goroutine
// and a few descriptors (it opens the state database). A leak adds some
// every round (a connection or a plugin process a host: thousands; one a
// round: one), so the last third's mean exceeds the first third's by what
// leaked over two thirds of the rounds, 7 rounds of 10, 20 of 30. Hence
// +5 for both, above that noise and below one a round from 9 rounds on,
// and +5 % of the goroutines should the service keep many one day.
var serveBounds = ServeBounds{
	MaxLate:    maxLate,
	RSS:        Growth{Fraction: maxRSSGrowth},
	Goroutines: Growth{Fraction: 0.05, Absolute: 5},
	FDs:        Growth{Absolute: 5},
}

// BenchmarkServe runs serve.Service, as `cscs serve` does (out-of-process
// plugins, SQLite), against an in-process fleet of 2000 hosts served by a
// child process, for FLEETBENCH_SERVE_ROUNDS rounds
// (FLEETBENCH_SERVE_HOSTS hosts). Two warm-up rounds come first: one
// detects every host's platform, the second, cached as every later one,
// sets the interval (intervalMargin times its time, in whole seconds;
// FLEETBENCH_SERVE_INTERVAL overrides it). Per round it
// prints how late the round started, its duration, the core's CPU, its
// RSS after the round, and its goroutines and open file descriptors once
// the round ran down (the service runs in this process; descriptors are
// counted on Linux only). It fails when a round starts more than maxLate
// late, or when the mean RSS, goroutines or descriptors of the last third
// of the rounds exceed the first third's by more than serveBounds.
func BenchmarkServe(b *testing.B) {
	hosts, rounds := envInt(b, "FLEETBENCH_SERVE_HOSTS", serveHosts), envInt(b, "FLEETBENCH_SERVE_ROUNDS", serveRounds)
	ctx := context.Background()
	plan := servePlan(b, ctx, hosts)

	// Two rounds back to back: the first detects every host's platform,
	// the second is cached as every later one and sets the interval.
	warm := runServe(b, ctx, plan, time.Nanosecond, 2, nil)
	interval := max(time.Duration(float64(warm[1].Duration)*intervalMargin).Round(time.Second), time.Second)
	if v := os.Getenv("FLEETBENCH_SERVE_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("FLEETBENCH_SERVE_INTERVAL=%q: want a duration such as 20s: %v", v, err)
		}
		interval = d
	}
	fmt.Printf("\nwarm-up rounds of %d hosts: %.3f s (platform detection), %.3f s (cached); interval %s, %d rounds\n",
		hosts, warm[0].Duration.Seconds(), warm[1].Duration.Seconds(), interval, rounds)

	rec, err := NewServeRecorder(interval)
	mustDo(b, err)
	measured := runServe(b, ctx, plan, interval, rounds, rec)
	mustDo(b, WriteServeTable(os.Stdout, measured, interval))

	s := SummarizeServe(measured, interval)
	for _, m := range []struct {
		value float64
		unit  string
	}{
		{interval.Seconds(), "interval-s"},
		{float64(s.MedianLate.Milliseconds()), "late-ms-median"},
		{float64(s.MaxLate.Milliseconds()), "late-ms-max"},
		{s.MedianDuration.Seconds(), "round-s-median"},
		{s.MedianCPU.Seconds(), "core-cpu-s/round-median"},
		{mb(measured[len(measured)-1].RSS), "rss-MB-last"},
		{mb(s.RSSSecondHalf - s.RSSFirstHalf), "rss-MB-growth-halves"},
		{s.CPUSecondHalf.Seconds() / s.CPUFirstHalf.Seconds(), "cpu-ratio-halves"},
		{float64(s.Overruns), "overruns"},
		{float64(measured[len(measured)-1].Goroutines), "goroutines-last"},
		{s.GoroutinesLastThird - s.GoroutinesFirstThird, "goroutines-growth-thirds"},
		{float64(measured[len(measured)-1].FDs), "fds-last"},
		{s.FDsLastThird - s.FDsFirstThird, "fds-growth-thirds"},
	} {
		b.ReportMetric(m.value, m.unit)
	}
	if err := CheckServe(s, serveBounds); err != nil {
		b.Fatal(err)
	}
}

// servePlan starts a child fleet of hosts hosts (closed when b ends),
// puts the agent in place on it and plans rounds against it as `cscs
// serve` would with the benchmark's round settings.
func servePlan(b *testing.B, ctx context.Context, hosts int) *round.Plan {
	b.Helper()
	_, env, agentDir := warmChildFleet(b, ctx, hosts)

	var diags strings.Builder
	cfg, err := round.Load(ctx, round.Files{Inventory: env.config}, round.LoadOptions{Version: "bench"}, &diags)
	if err != nil {
		b.Fatalf("load %s: %v\n%s", env.config, err, diags.String())
	}
	settings := round.DefaultSettings()
	settings.CPUSample, settings.HostTimeout = cpuSample, hostTimeout
	settings.ConnectTimeout, settings.HandshakeTimeout = 10*time.Second, 20*time.Second
	plan, err := round.NewPlan(cfg, settings, round.Environment{
		Version: "bench", DataDir: env.dataDir, AgentDir: agentDir, DB: env.db,
	})
	mustDo(b, err)
	return plan
}

// runServe runs a serve.Service of plan every interval, without jitter,
// for rounds rounds, records each with rec (nil: a recorder of its own)
// and returns them. It fails b when a host is not collected.
func runServe(b *testing.B, ctx context.Context, plan *round.Plan, interval time.Duration, rounds int, rec *ServeRecorder) []ServeRound {
	b.Helper()
	if rec == nil {
		var err error
		rec, err = NewServeRecorder(interval)
		mustDo(b, err)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var recordErr error
	svc := serve.New(plan, nil, serve.Options{
		Interval: interval, Jitter: -1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Done: func(res *round.Result) {
			failed := 0
			for _, c := range res.Batch.Collections {
				if c.Status != storage.StatusOK {
					failed++
				}
			}
			if err := rec.Record(res.Batch.StartedAt, time.Now(), failed); err != nil || failed > 0 || !res.Stored {
				recordErr = fmt.Errorf("round %d: %s, stored %v; record: %v", len(rec.Rounds()), res, res.Stored, err)
				stop()
			}
			if len(rec.Rounds()) == rounds {
				stop()
			}
		},
	})
	svc.Run(ctx)
	mustDo(b, recordErr)
	if got := len(rec.Rounds()); got != rounds {
		b.Fatalf("%d of %d rounds ran", got, rounds)
	}
	return rec.Rounds()
}

// envInt is the positive integer in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
