package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Benchmark sizes: one round of a large fleet.
const (
	BenchHosts          = 1000
	BenchSamplesPerHost = 20
)

// BenchmarkWriteBatch writes a new round of BenchHosts hosts with
// BenchSamplesPerHost samples each per iteration, and reports rows/s,
// counting host, collection and sample rows.
func BenchmarkWriteBatch(b *testing.B, write func(ctx context.Context, batch *storage.Batch) error) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	rowsPerBatch := BenchHosts + BenchHosts + BenchHosts*BenchSamplesPerHost
	i := 0
	for b.Loop() {
		b.StopTimer()
		batch := SyntheticBatch(fmt.Sprintf("bench-%d", i), t0.Add(time.Duration(i)*time.Minute), BenchHosts, BenchSamplesPerHost)
		i++
		b.StartTimer()
		if err := write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rowsPerBatch*i)/b.Elapsed().Seconds(), "rows/s")
}
