package swap

import (
	"context"
	"errors"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

type fakeReader struct {
	stats Stats
	err   error
}

func (f fakeReader) Swap(context.Context) (Stats, error) { return f.stats, f.err }

func TestCollect(t *testing.T) {
	tests := map[string]struct {
		reader                  fakeReader
		wantPercent             float64
		wantTotal, wantUsedByte float64
		wantErr                 bool
	}{
		"no swap":          {reader: fakeReader{stats: Stats{}}, wantPercent: 0, wantTotal: 0, wantUsedByte: 0},
		"quarter used":     {reader: fakeReader{stats: Stats{TotalBytes: 4096, UsedBytes: 1024}}, wantPercent: 25, wantTotal: 4096, wantUsedByte: 1024},
		"fully used":       {reader: fakeReader{stats: Stats{TotalBytes: 2048, UsedBytes: 2048}}, wantPercent: 100, wantTotal: 2048, wantUsedByte: 2048},
		"used above total": {reader: fakeReader{stats: Stats{TotalBytes: 2048, UsedBytes: 4096}}, wantPercent: 100, wantTotal: 2048, wantUsedByte: 2048},
		"used without total": {
			reader:      fakeReader{stats: Stats{TotalBytes: 0, UsedBytes: 10}},
			wantPercent: 0, wantTotal: 0, wantUsedByte: 0,
		},
		"read error": {reader: fakeReader{err: errors.New("sysctl failed")}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := NewWithReader(tc.reader).Collect(context.Background(), module.Config{})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Collect() = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Collect(): %v", err)
			}
			want := []protocol.Metric{
				{Name: metrics.SwapUsedPercent, Value: tc.wantPercent, Unit: "percent"},
				{Name: metrics.SwapTotalBytes, Value: tc.wantTotal, Unit: "bytes"},
				{Name: metrics.SwapUsedBytes, Value: tc.wantUsedByte, Unit: "bytes"},
			}
			if len(got) != len(want) {
				t.Fatalf("Collect() = %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("metric %d = %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
