package fleetbench

import (
	"strings"
	"testing"
	"time"
)

func TestSummarizeServe(t *testing.T) {
	round := func(late, dur time.Duration, cpu time.Duration, rssMB int64) ServeRound {
		return ServeRound{Late: late, Duration: dur, CPU: cpu, RSS: rssMB << 20, Handles: Handles{Goroutines: 3, FDs: 12}}
	}
	handles := func(goroutines, fds int) ServeRound {
		return ServeRound{Duration: time.Second, RSS: 100 << 20, Handles: Handles{Goroutines: goroutines, FDs: fds}}
	}
	tests := map[string]struct {
		rounds []ServeRound
		want   ServeSummary
	}{
		"none": {},
		"steady": {
			rounds: []ServeRound{round(0, 2*time.Second, time.Second, 100), round(5*time.Millisecond, 3*time.Second, time.Second, 100),
				round(time.Millisecond, 2*time.Second, 3*time.Second, 100)},
			want: ServeSummary{MedianLate: time.Millisecond, MaxLate: 5 * time.Millisecond, MedianDuration: 2 * time.Second, MedianCPU: time.Second,
				RSSFirstThird: 100 << 20, RSSLastThird: 100 << 20, RSSFirstHalf: 100 << 20, RSSSecondHalf: 100 << 20,
				CPUFirstHalf: time.Second, CPUSecondHalf: 3 * time.Second,
				GoroutinesFirstThird: 3, GoroutinesLastThird: 3, FDsFirstThird: 12, FDsLastThird: 12},
		},
		"growing, one overrun": {
			rounds: []ServeRound{round(0, time.Second, time.Second, 100), round(0, time.Second, time.Second, 110),
				round(0, time.Second, time.Second, 120), round(0, 11*time.Second, time.Second, 130),
				round(0, time.Second, time.Second, 140), round(0, time.Second, time.Second, 150)},
			want: ServeSummary{MedianDuration: time.Second, MedianCPU: time.Second, Overruns: 1,
				RSSFirstThird: 105 << 20, RSSLastThird: 145 << 20, RSSFirstHalf: 110 << 20, RSSSecondHalf: 140 << 20,
				CPUFirstHalf: time.Second, CPUSecondHalf: time.Second,
				GoroutinesFirstThird: 3, GoroutinesLastThird: 3, FDsFirstThird: 12, FDsLastThird: 12},
		},
		"leaking a goroutine and a descriptor a round": {
			rounds: []ServeRound{handles(3, 12), handles(4, 13), handles(5, 14), handles(6, 15), handles(7, 16), handles(8, 17)},
			want: ServeSummary{MedianDuration: time.Second,
				RSSFirstThird: 100 << 20, RSSLastThird: 100 << 20, RSSFirstHalf: 100 << 20, RSSSecondHalf: 100 << 20,
				GoroutinesFirstThird: 3.5, GoroutinesLastThird: 7.5, FDsFirstThird: 12.5, FDsLastThird: 16.5},
		},
		"descriptors not counted in one round": {
			rounds: []ServeRound{handles(3, 12), handles(3, -1), handles(3, 12)},
			want: ServeSummary{MedianDuration: time.Second,
				RSSFirstThird: 100 << 20, RSSLastThird: 100 << 20, RSSFirstHalf: 100 << 20, RSSSecondHalf: 100 << 20,
				GoroutinesFirstThird: 3, GoroutinesLastThird: 3, FDsFirstThird: -1, FDsLastThird: -1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := SummarizeServe(tc.rounds, 10*time.Second); got != tc.want {
				t.Errorf("SummarizeServe = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		duration time.Duration
		want     time.Time
	}{
		"shorter than the interval":  {duration: 4 * time.Second, want: start.Add(10 * time.Second)},
		"as long as the interval":    {duration: 10 * time.Second, want: start.Add(10 * time.Second)},
		"overran: starts at its end": {duration: 13 * time.Second, want: start.Add(13 * time.Second)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := due(ServeRound{Start: start, Duration: tc.duration}, 10*time.Second); !got.Equal(tc.want) {
				t.Errorf("due = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestQuietest(t *testing.T) {
	tests := map[string]struct {
		samples []Handles
		polls   int
		want    Handles
	}{
		"one sample":            {samples: []Handles{{5, 20}}, polls: 1, want: Handles{5, 20}},
		"no polls: still one":   {samples: []Handles{{5, 20}}, polls: 0, want: Handles{5, 20}},
		"a round running down":  {samples: []Handles{{40, 30}, {6, 15}, {3, 12}, {4, 12}}, polls: 4, want: Handles{3, 12}},
		"fewest of each apart":  {samples: []Handles{{3, 15}, {4, 12}}, polls: 2, want: Handles{3, 12}},
		"descriptors uncounted": {samples: []Handles{{4, -1}, {3, -1}}, polls: 2, want: Handles{3, -1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, pauses := 0, 0
			sample := func() Handles { n++; return tc.samples[n-1] }
			got := quietest(sample, tc.polls, func() { pauses++ })
			if got != tc.want || n != max(tc.polls, 1) || pauses != n-1 {
				t.Errorf("quietest = %+v after %d samples and %d pauses; want %+v after %d samples", got, n, pauses, tc.want, max(tc.polls, 1))
			}
		})
	}
}

func TestCheckServe(t *testing.T) {
	bounds := ServeBounds{MaxLate: time.Second, RSS: Growth{Fraction: 0.2},
		Goroutines: Growth{Fraction: 0.05, Absolute: 5}, FDs: Growth{Absolute: 5}}
	steady := ServeSummary{MaxLate: 10 * time.Millisecond, RSSFirstThird: 100 << 20, RSSLastThird: 110 << 20,
		GoroutinesFirstThird: 3, GoroutinesLastThird: 4, FDsFirstThird: 12, FDsLastThird: 12}
	with := func(change func(*ServeSummary)) ServeSummary {
		s := steady
		change(&s)
		return s
	}
	tests := map[string]struct {
		summary ServeSummary
		// want are the parts of the error, none when it is nil.
		want []string
	}{
		"steady": {summary: steady},
		"late": {summary: with(func(s *ServeSummary) { s.MaxLate = 1500 * time.Millisecond }),
			want: []string{"a round started 1.5s late (bound 1s)"}},
		"RSS +20 % exactly": {summary: with(func(s *ServeSummary) { s.RSSLastThird = 120 << 20 })},
		"RSS +25 %": {summary: with(func(s *ServeSummary) { s.RSSLastThird = 125 << 20 }),
			want: []string{"RSS grew from 100.0 MB (first third of the rounds) to 125.0 MB (last third): more than +20 %"}},
		"goroutines +5: at the absolute bound": {summary: with(func(s *ServeSummary) { s.GoroutinesLastThird = 8 })},
		"goroutines +5.5": {summary: with(func(s *ServeSummary) { s.GoroutinesLastThird = 8.5 }),
			want: []string{"goroutines grew from 3.0 (first third of the rounds) to 8.5 (last third): more than +5 %, at least +5"}},
		"many goroutines: 5 % of them allowed": {summary: with(func(s *ServeSummary) { s.GoroutinesFirstThird, s.GoroutinesLastThird = 200, 209 })},
		"many goroutines, +6 %": {summary: with(func(s *ServeSummary) { s.GoroutinesFirstThird, s.GoroutinesLastThird = 200, 212 }),
			want: []string{"goroutines grew from 200.0"}},
		"descriptors +7": {summary: with(func(s *ServeSummary) { s.FDsLastThird = 19 }),
			want: []string{"open file descriptors grew from 12.0 (first third of the rounds) to 19.0 (last third): more than +5"}},
		"descriptors not counted": {summary: with(func(s *ServeSummary) { s.FDsFirstThird, s.FDsLastThird = -1, -1 })},
		"everything at once": {summary: ServeSummary{MaxLate: 2 * time.Second, RSSFirstThird: 100 << 20, RSSLastThird: 200 << 20,
			GoroutinesFirstThird: 3, GoroutinesLastThird: 2003, FDsFirstThird: 12, FDsLastThird: 2012},
			want: []string{"late", "RSS grew", "goroutines grew", "open file descriptors grew"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckServe(tc.summary, bounds)
			if (err != nil) != (len(tc.want) > 0) {
				t.Fatalf("CheckServe = %v; want an error: %v", err, len(tc.want) > 0)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckServe = %q; want it to say %q", err, w)
				}
			}
		})
	}
}

func TestGrowthString(t *testing.T) {
	for g, want := range map[Growth]string{
		{Fraction: 0.2}:                "+20 %",
		{Absolute: 5}:                  "+5",
		{Fraction: 0.05, Absolute: 20}: "+5 %, at least +20",
	} {
		if got := g.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", g, got, want)
		}
	}
}
