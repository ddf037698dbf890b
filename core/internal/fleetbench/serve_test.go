package fleetbench

import (
	"testing"
	"time"
)

func TestSummarizeServe(t *testing.T) {
	round := func(late, dur time.Duration, cpu time.Duration, rssMB int64) ServeRound {
		return ServeRound{Late: late, Duration: dur, CPU: cpu, RSS: rssMB << 20}
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
				CPUFirstHalf: time.Second, CPUSecondHalf: 3 * time.Second},
		},
		"growing, one overrun": {
			rounds: []ServeRound{round(0, time.Second, time.Second, 100), round(0, time.Second, time.Second, 110),
				round(0, time.Second, time.Second, 120), round(0, 11*time.Second, time.Second, 130),
				round(0, time.Second, time.Second, 140), round(0, time.Second, time.Second, 150)},
			want: ServeSummary{MedianDuration: time.Second, MedianCPU: time.Second, Overruns: 1,
				RSSFirstThird: 105 << 20, RSSLastThird: 145 << 20, RSSFirstHalf: 110 << 20, RSSSecondHalf: 140 << 20,
				CPUFirstHalf: time.Second, CPUSecondHalf: time.Second},
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
