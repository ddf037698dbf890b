package memory

import (
	"testing"

	"github.com/cscs-dev/cscs/agent/internal/procfs"
)

func TestFromMeminfo(t *testing.T) {
	const g = 1 << 30
	tests := map[string]struct {
		in   procfs.Meminfo
		want Stats
	}{
		"MemAvailable": {
			in:   procfs.Meminfo{MemTotal: 8 * g, MemFree: 1 * g, MemAvailable: 6 * g, HasMemAvailable: true, Cached: 4 * g},
			want: Stats{TotalBytes: 8 * g, UsedBytes: 2 * g, AvailableBytes: 6 * g, UsedPercent: 25},
		},
		"kernel before 3.14: free, cache and reclaimable slab": {
			in:   procfs.Meminfo{MemTotal: 8 * g, MemFree: 1 * g, Buffers: 1 * g, Cached: 2 * g, SReclaimable: 1 * g},
			want: Stats{TotalBytes: 8 * g, UsedBytes: 4 * g, AvailableBytes: 4 * g, UsedPercent: 50},
		},
		"available above total": {
			in:   procfs.Meminfo{MemTotal: 4 * g, MemAvailable: 5 * g, HasMemAvailable: true},
			want: Stats{TotalBytes: 4 * g, AvailableBytes: 4 * g},
		},
		"nothing available": {
			in:   procfs.Meminfo{MemTotal: 4 * g, HasMemAvailable: true},
			want: Stats{TotalBytes: 4 * g, UsedBytes: 4 * g, UsedPercent: 100},
		},
		"no total": {in: procfs.Meminfo{}, want: Stats{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := fromMeminfo(tt.in); got != tt.want {
				t.Fatalf("fromMeminfo() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
