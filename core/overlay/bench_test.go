package overlay

import (
	"context"
	"testing"
)

// BenchmarkHolds is the cost of one expression rule on one host's samples
// (the core evaluates every rule of every host after each round).
func BenchmarkHolds(b *testing.B) {
	ov, diags := Load([]string{"testdata/full.hcl"}, Options{Env: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	if d := ov.Resolve(context.Background(), ResolveOptions{Schemas: webhookCatalog(), Sources: builtinSources(b)}); d.HasErrors() {
		b.Fatal(d)
	}
	al := ov.Groups[0].Alerts[0]
	samples := map[string]float64{"memory.used_percent": 95, "swap.used_percent": 60, "cpu.usage_percent": 12,
		"uptime.seconds": 1000, "load.1": 0.5, "load.5": 0.4, "load.15": 0.3, "memory.total_bytes": 1 << 34}
	f := Facts{IP: "10.0.0.7", Port: 22, OS: "windows", Arch: "amd64"}
	b.ReportAllocs()
	for b.Loop() {
		if holds, ok := al.Holds(f, samples); !holds || !ok {
			b.Fatal("want the rule to hold")
		}
	}
}
