package cpu

import (
	"context"
	"testing"
	"time"

	gocpu "github.com/shirou/gopsutil/v4/cpu"
)

// The /proc sampler counts the CPUs gopsutil (/proc/cpuinfo), which earlier
// agents used, counts, and measures a share of busy time within 0..100.
func TestHostSamplerOnThisHost(t *testing.T) {
	ctx := context.Background()
	n, err := hostSampler{}.LogicalCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gocpu.CountsWithContext(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("LogicalCount() = %d, gopsutil says %d", n, want)
	}
	busy, err := hostSampler{}.BusyPercent(ctx, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if busy < 0 || busy > 100 {
		t.Fatalf("BusyPercent() = %v, want 0..100", busy)
	}
}

// A cancelled context ends the sampling window early.
func TestHostSamplerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := (hostSampler{}).BusyPercent(ctx, time.Hour); err == nil {
		t.Fatal("BusyPercent() with a cancelled context succeeded")
	}
	if time.Since(start) > time.Second {
		t.Fatal("BusyPercent() waited out its window despite the cancelled context")
	}
}
