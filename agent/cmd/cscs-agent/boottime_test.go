package main

import (
	"context"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// TestBootTime: a report holding a counter says when the host booted (in
// the past, and the same within a second or two on a second call); one
// without a counter does not.
func TestBootTime(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	plain := []protocol.ModuleResult{{Name: "cpu", Metrics: []protocol.Metric{{Name: "cpu.percent", Value: 3}}}}
	if got := bootTime(ctx, now, plain); !got.IsZero() {
		t.Errorf("bootTime without a counter = %v, want zero", got)
	}
	counted := append(plain, protocol.ModuleResult{Name: "net", Metrics: []protocol.Metric{{Name: "net.rx_bytes_per_second", Value: 1e6, Counter: true}}})
	first := bootTime(ctx, now, counted)
	if first.IsZero() || !first.Before(now) {
		t.Fatalf("bootTime with a counter = %v, want a time before %v", first, now)
	}
	second := bootTime(ctx, time.Now().UTC(), counted)
	if d := second.Sub(first); d < -2*time.Second || d > 2*time.Second {
		t.Errorf("boot time moved by %v between two calls", d)
	}
}
