package cpu

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/module/moduletest"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

type fakeSampler struct {
	busy      float64
	busyErr   error
	count     int
	countErr  error
	gotWindow time.Duration
}

func (f *fakeSampler) BusyPercent(_ context.Context, window time.Duration) (float64, error) {
	f.gotWindow = window
	return f.busy, f.busyErr
}

func (f *fakeSampler) LogicalCount(context.Context) (int, error) { return f.count, f.countErr }

func TestCollect(t *testing.T) {
	tests := map[string]struct {
		sampler    fakeSampler
		cfg        module.Config
		wantWindow time.Duration
		wantBusy   float64
		wantErr    bool
	}{
		"normal": {
			sampler:    fakeSampler{busy: 37.5, count: 8},
			cfg:        module.Config{CPUSample: 200 * time.Millisecond},
			wantWindow: 200 * time.Millisecond,
			wantBusy:   37.5,
		},
		"default window": {
			sampler:    fakeSampler{busy: 1, count: 1},
			wantWindow: module.DefaultCPUSample,
			wantBusy:   1,
		},
		"above 100 is clamped": {
			sampler:    fakeSampler{busy: 100.0000001, count: 2},
			wantWindow: module.DefaultCPUSample,
			wantBusy:   100,
		},
		"below 0 is clamped": {
			sampler:    fakeSampler{busy: -0.1, count: 2},
			wantWindow: module.DefaultCPUSample,
			wantBusy:   0,
		},
		"sample error":  {sampler: fakeSampler{busyErr: errors.New("no /proc/stat"), count: 2}, wantErr: true},
		"count error":   {sampler: fakeSampler{countErr: errors.New("boom")}, wantErr: true},
		"zero cpus":     {sampler: fakeSampler{busy: 5, count: 0}, wantErr: true},
		"negative cpus": {sampler: fakeSampler{busy: 5, count: -1}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := tc.sampler
			got, err := NewWithSampler(&s).Collect(context.Background(), tc.cfg)
			moduletest.Check(t, got, err, []protocol.Metric{
				{Name: metrics.CPUPercent, Value: tc.wantBusy, Unit: "percent"},
				{Name: metrics.CPUCount, Value: float64(s.count), Unit: "count"},
			}, tc.wantErr)
			if !tc.wantErr && s.gotWindow != tc.wantWindow {
				t.Errorf("sampled over %v, want %v", s.gotWindow, tc.wantWindow)
			}
		})
	}
}

func TestCollectNaNPassesThrough(t *testing.T) {
	// The module does not hide a NaN; the collector rejects non-finite values.
	got, err := NewWithSampler(&fakeSampler{busy: math.NaN(), count: 1}).Collect(context.Background(), module.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(got[0].Value) {
		t.Fatalf("cpu.percent = %v, want NaN passed through", got[0].Value)
	}
}

func TestName(t *testing.T) {
	if got := New().Name(); got != "cpu" {
		t.Fatalf("Name() = %q", got)
	}
}

// TestCollectWindowEndsWithContext: the operating system's sampler does
// not sit out its window once the agent is stopped.
func TestCollectWindowEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := New().Collect(ctx, module.Config{CPUSample: 10 * time.Minute})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Collect returned after %v of a 10 min window, want soon after the cancel", elapsed)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Collect: %v, want the context's error", err)
	}
}
