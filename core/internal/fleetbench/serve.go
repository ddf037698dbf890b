package fleetbench

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
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
	// Handles are the process's goroutines and open file descriptors
	// once the round ran down (see ServeRecorder.Record).
	Handles
	// Failed counts the hosts not collected.
	Failed int
}

// Handles are what a leak leaves behind: the process's goroutines and
// its open file descriptors (FDs is -1 where they cannot be counted).
type Handles struct {
	Goroutines, FDs int
}

// currentHandles counts this process's goroutines and open file
// descriptors now: the service runs in this process, so its goroutines
// and descriptors are among them.
func currentHandles() Handles {
	fds, err := openFDs()
	if err != nil {
		fds = -1
	}
	return Handles{Goroutines: runtime.NumGoroutine(), FDs: fds}
}

// quietest samples polls times (at least once), calling pause between
// two samples, and returns the fewest goroutines and the fewest file
// descriptors seen. What a round running down holds for a moment (plugin
// processes being reaped, the mailer's delivery beside the round) is in
// some samples only; what leaked is in every one.
func quietest(sample func() Handles, polls int, pause func()) Handles {
	h := sample()
	for range polls - 1 {
		pause()
		s := sample()
		h.Goroutines, h.FDs = min(h.Goroutines, s.Goroutines), min(h.FDs, s.FDs)
	}
	return h
}

// The goroutines and file descriptors after a round are the fewest seen
// over settleWindow, sampled every settlePoll, or over half the time left
// before the next round is due when that is shorter: counting never
// delays the next round.
const (
	settleWindow = time.Second
	settlePoll   = 20 * time.Millisecond
)

// ServeRecorder turns the end of each round into a ServeRound, reading
// the process's CPU and RSS then, and its goroutines and file descriptors
// once the round ran down.
type ServeRecorder struct {
	interval time.Duration
	lastCPU  time.Duration
	rounds   []ServeRound
	handles  func() Handles
}

// NewServeRecorder starts counting CPU now, for rounds every interval.
func NewServeRecorder(interval time.Duration) (*ServeRecorder, error) {
	u, err := ProcessUsage()
	if err != nil {
		return nil, err
	}
	return &ServeRecorder{interval: interval, lastCPU: u.SelfCPU + u.ChildrenCPU, handles: currentHandles}, nil
}

// Record adds the round that started at start and ended at end with
// failed hosts not collected. Called as the round ends, it reads the CPU
// and RSS at once, then counts goroutines and file descriptors as
// quietest does over settleWindow (less when the next round is due
// sooner), so that what the round still holds while it runs down does not
// count.
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
	wait := min(settleWindow, time.Until(start.Add(r.interval))/2)
	h := quietest(r.handles, 1+int(max(wait, 0)/settlePoll), func() { time.Sleep(settlePoll) })
	round := ServeRound{Start: start, Duration: end.Sub(start), CPU: cpu - r.lastCPU, RSS: rss, Handles: h, Failed: failed}
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
	// Mean goroutines and open file descriptors after the rounds of the
	// first and last third; the FDs are -1 when a round could not count
	// them.
	GoroutinesFirstThird, GoroutinesLastThird, FDsFirstThird, FDsLastThird float64
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
	goroutines, fds := make([]float64, len(rounds)), make([]float64, len(rounds))
	fdsCounted := true
	for i, r := range rounds {
		late[i], durations[i], cpus[i], rss[i] = r.Late, r.Duration, r.CPU, r.RSS
		goroutines[i], fds[i] = float64(r.Goroutines), float64(r.FDs)
		fdsCounted = fdsCounted && r.FDs >= 0
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
	s.GoroutinesFirstThird, s.GoroutinesLastThird = mean(goroutines[:third]), mean(goroutines[len(goroutines)-third:])
	s.FDsFirstThird, s.FDsLastThird = -1, -1
	if fdsCounted {
		s.FDsFirstThird, s.FDsLastThird = mean(fds[:third]), mean(fds[len(fds)-third:])
	}
	return s
}

// Growth bounds how much a mean may grow from the first third of the
// rounds to the last: by Fraction of the first third's or by Absolute,
// whichever allows more.
type Growth struct{ Fraction, Absolute float64 }

// allowed is how much a mean of first may grow.
func (g Growth) allowed(first float64) float64 { return max(first*g.Fraction, g.Absolute) }

// String is the bound as a reader sees it, such as "+5 %, at least +10".
func (g Growth) String() string {
	pct := "+" + strconv.FormatFloat(g.Fraction*100, 'f', -1, 64) + " %"
	abs := "+" + strconv.FormatFloat(g.Absolute, 'f', -1, 64)
	switch {
	case g.Absolute == 0:
		return pct
	case g.Fraction == 0:
		return abs
	}
	return pct + ", at least " + abs
}

// ServeBounds are what BenchmarkServe fails beyond.
type ServeBounds struct {
	// MaxLate is the most a round may start after it is due.
	MaxLate time.Duration
	// RSS, Goroutines and FDs bound the growth of the means of the last
	// third of the rounds over the first third.
	RSS, Goroutines, FDs Growth
}

// CheckServe returns every bound of b that s exceeds, joined; nil when
// none is. File descriptors that were not counted are not checked.
func CheckServe(s ServeSummary, b ServeBounds) error {
	var errs []error
	if s.MaxLate > b.MaxLate {
		errs = append(errs, fmt.Errorf("a round started %s late (bound %s): serve did not keep its interval", s.MaxLate, b.MaxLate))
	}
	grew := func(what string, first, last float64, g Growth, unit string) {
		if last > first+g.allowed(first) {
			errs = append(errs, fmt.Errorf("%s grew from %.1f%s (first third of the rounds) to %.1f%s (last third): more than %s",
				what, first, unit, last, unit, g))
		}
	}
	grew("RSS", mb(s.RSSFirstThird), mb(s.RSSLastThird), b.RSS, " MB")
	grew("goroutines", s.GoroutinesFirstThird, s.GoroutinesLastThird, b.Goroutines, "")
	if s.FDsFirstThird >= 0 {
		grew("open file descriptors", s.FDsFirstThird, s.FDsLastThird, b.FDs, "")
	}
	return errors.Join(errs...)
}

func mean[T time.Duration | int64 | float64](v []T) T {
	var sum T
	for _, x := range v {
		sum += x
	}
	return sum / T(len(v))
}

// WriteServeTable prints one line per round, then the summary.
func WriteServeTable(w io.Writer, rounds []ServeRound, interval time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tlate ms\tduration s\tcore CPU s\tRSS MB\tgoroutines\tfds\tfailed\t")
	for i, r := range rounds {
		fds := "-"
		if r.FDs >= 0 {
			fds = strconv.Itoa(r.FDs)
		}
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.1f\t%d\t%s\t%d\t\n", i+1, r.Late.Milliseconds(), r.Duration.Seconds(), r.CPU.Seconds(), mb(r.RSS),
			r.Goroutines, fds, r.Failed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := SummarizeServe(rounds, interval)
	_, err := fmt.Fprintf(w, "interval %s; medians: late %d ms (max %d ms), round %.3f s, core CPU %.3f s; %d rounds longer than the interval\n"+
		"RSS MB: first third %.1f, last third %.1f; first half %.1f, second half %.1f. CPU s/round: first half %.3f, second half %.3f\n"+
		"goroutines: first third %.1f, last third %.1f; open fds: first third %.1f, last third %.1f (-1: not counted)\n",
		interval, s.MedianLate.Milliseconds(), s.MaxLate.Milliseconds(), s.MedianDuration.Seconds(), s.MedianCPU.Seconds(), s.Overruns,
		mb(s.RSSFirstThird), mb(s.RSSLastThird), mb(s.RSSFirstHalf), mb(s.RSSSecondHalf), s.CPUFirstHalf.Seconds(), s.CPUSecondHalf.Seconds(),
		s.GoroutinesFirstThird, s.GoroutinesLastThird, s.FDsFirstThird, s.FDsLastThird)
	return err
}
