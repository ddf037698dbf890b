package fleetbench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// ServeRound is one round of `cscs serve` as BenchmarkServe measures it.
type ServeRound struct {
	Start time.Time
	// Late is how much later than serve's schedule the round started: its
	// start minus the previous start plus the interval or, after a round
	// longer than the interval, minus that round's end (0 for the first).
	Late     time.Duration
	Duration time.Duration
	// CPU is the core's CPU (itself and its waited-for plugin processes)
	// since the previous round ended: this round and the wait before it.
	CPU time.Duration
	// RSS is the core's resident set when the round ended, in bytes.
	RSS int64
	// Failed counts the hosts not collected.
	Failed int
}

// ServeRecorder turns the end of each round into a ServeRound, reading
// the process's CPU and RSS then.
type ServeRecorder struct {
	interval time.Duration
	lastCPU  time.Duration
	rounds   []ServeRound
}

// NewServeRecorder starts counting CPU now, for rounds every interval.
func NewServeRecorder(interval time.Duration) (*ServeRecorder, error) {
	u, err := ProcessUsage()
	if err != nil {
		return nil, err
	}
	return &ServeRecorder{interval: interval, lastCPU: u.SelfCPU + u.ChildrenCPU}, nil
}

// Record adds the round that started at start and ended at end with
// failed hosts not collected.
func (r *ServeRecorder) Record(start, end time.Time, failed int) error {
	u, err := ProcessUsage()
	if err != nil {
		return err
	}
	rss, err := currentRSS()
	if err != nil {
		return fmt.Errorf("read the core's RSS: %w", err)
	}
	cpu := u.SelfCPU + u.ChildrenCPU
	round := ServeRound{Start: start, Duration: end.Sub(start), CPU: cpu - r.lastCPU, RSS: rss, Failed: failed}
	if n := len(r.rounds); n > 0 {
		round.Late = start.Sub(due(r.rounds[n-1], r.interval))
	}
	r.lastCPU = cpu
	r.rounds = append(r.rounds, round)
	return nil
}

// due is when serve starts the round after prev: an interval after prev's
// start or, when prev took longer, at its end.
func due(prev ServeRound, interval time.Duration) time.Time {
	next := prev.Start.Add(interval)
	if end := prev.Start.Add(prev.Duration); end.After(next) {
		return end
	}
	return next
}

// Rounds returns the rounds recorded so far.
func (r *ServeRecorder) Rounds() []ServeRound { return r.rounds }

// ServeSummary is what BenchmarkServe reports of its rounds.
type ServeSummary struct {
	MedianLate, MaxLate, MedianDuration, MedianCPU time.Duration
	// Overruns counts rounds longer than the interval.
	Overruns int
	// Mean RSS of the first and last third, and of the first and second
	// half, of the rounds.
	RSSFirstThird, RSSLastThird, RSSFirstHalf, RSSSecondHalf int64
	// Mean CPU per round of the first and second half.
	CPUFirstHalf, CPUSecondHalf time.Duration
}

// SummarizeServe sums up rounds run every interval.
func SummarizeServe(rounds []ServeRound, interval time.Duration) ServeSummary {
	var s ServeSummary
	if len(rounds) == 0 {
		return s
	}
	late := make([]time.Duration, len(rounds))
	durations := make([]time.Duration, len(rounds))
	cpus := make([]time.Duration, len(rounds))
	rss := make([]int64, len(rounds))
	for i, r := range rounds {
		late[i], durations[i], cpus[i], rss[i] = r.Late, r.Duration, r.CPU, r.RSS
		s.MaxLate = max(s.MaxLate, r.Late)
		if r.Duration > interval {
			s.Overruns++
		}
	}
	s.MedianLate, s.MedianDuration, s.MedianCPU = median(late), median(durations), median(cpus)
	third, half := max(len(rounds)/3, 1), max(len(rounds)/2, 1)
	s.RSSFirstThird, s.RSSLastThird = mean(rss[:third]), mean(rss[len(rss)-third:])
	s.RSSFirstHalf, s.RSSSecondHalf = mean(rss[:half]), mean(rss[len(rss)-half:])
	s.CPUFirstHalf, s.CPUSecondHalf = mean(cpus[:half]), mean(cpus[len(cpus)-half:])
	return s
}

func mean[T time.Duration | int64](v []T) T {
	var sum T
	for _, x := range v {
		sum += x
	}
	return sum / T(len(v))
}

// WriteServeTable prints one line per round, then the summary.
func WriteServeTable(w io.Writer, rounds []ServeRound, interval time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tlate ms\tduration s\tcore CPU s\tRSS MB\tfailed\t")
	for i, r := range rounds {
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.1f\t%d\t\n", i+1, r.Late.Milliseconds(), r.Duration.Seconds(), r.CPU.Seconds(), mb(r.RSS), r.Failed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := SummarizeServe(rounds, interval)
	_, err := fmt.Fprintf(w, "interval %s; medians: late %d ms (max %d ms), round %.3f s, core CPU %.3f s; %d rounds longer than the interval\n"+
		"RSS MB: first third %.1f, last third %.1f; first half %.1f, second half %.1f. CPU s/round: first half %.3f, second half %.3f\n",
		interval, s.MedianLate.Milliseconds(), s.MaxLate.Milliseconds(), s.MedianDuration.Seconds(), s.MedianCPU.Seconds(), s.Overruns,
		mb(s.RSSFirstThird), mb(s.RSSLastThird), mb(s.RSSFirstHalf), mb(s.RSSSecondHalf), s.CPUFirstHalf.Seconds(), s.CPUSecondHalf.Seconds())
	return err
}
