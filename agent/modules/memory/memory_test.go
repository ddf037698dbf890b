package memory

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

func (f fakeReader) VirtualMemory(context.Context) (Stats, error) { return f.stats, f.err }

func TestCollect(t *testing.T) {
	tests := map[string]struct {
		reader  fakeReader
		want    []protocol.Metric
		wantErr bool
	}{
		"normal": {
			reader: fakeReader{stats: Stats{TotalBytes: 8 << 30, UsedBytes: 3 << 30, AvailableBytes: 4 << 30, UsedPercent: 50}},
			want: []protocol.Metric{
				{Name: metrics.MemoryUsedPercent, Value: 50, Unit: "percent"},
				{Name: metrics.MemoryTotalBytes, Value: 8 << 30, Unit: "bytes"},
				{Name: metrics.MemoryUsedBytes, Value: 3 << 30, Unit: "bytes"},
				{Name: metrics.MemoryAvailBytes, Value: 4 << 30, Unit: "bytes"},
			},
		},
		"percent above 100 is clamped": {
			reader: fakeReader{stats: Stats{TotalBytes: 1024, UsedBytes: 1024, UsedPercent: 100.2}},
			want: []protocol.Metric{
				{Name: metrics.MemoryUsedPercent, Value: 100, Unit: "percent"},
				{Name: metrics.MemoryTotalBytes, Value: 1024, Unit: "bytes"},
				{Name: metrics.MemoryUsedBytes, Value: 1024, Unit: "bytes"},
				{Name: metrics.MemoryAvailBytes, Value: 0, Unit: "bytes"},
			},
		},
		"read error": {reader: fakeReader{err: errors.New("no /proc/meminfo")}, wantErr: true},
		"zero total": {reader: fakeReader{stats: Stats{UsedPercent: 0}}, wantErr: true},
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
			if len(got) != len(tc.want) {
				t.Fatalf("Collect() = %v, want %v", got, tc.want)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("metric %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
