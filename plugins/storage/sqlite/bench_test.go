package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkWriteBatch writes rounds of 1000 hosts with 20 samples each and
// reports rows/s, counting host, collection and sample rows.
func BenchmarkWriteBatch(b *testing.B) {
	const hosts, samplesPerHost = 1000, 20
	ctx := context.Background()
	s := migratedStore(b)
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

	rowsPerBatch := hosts + hosts + hosts*samplesPerHost
	i := 0
	for b.Loop() {
		b.StopTimer()
		batch := syntheticBatch(fmt.Sprintf("bench-%d", i), t0.Add(time.Duration(i)*time.Minute), hosts, samplesPerHost)
		i++
		b.StartTimer()
		if err := s.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rowsPerBatch*i)/b.Elapsed().Seconds(), "rows/s")
}
