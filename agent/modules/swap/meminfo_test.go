package swap

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
		"a quarter used": {in: procfs.Meminfo{SwapTotal: 4 * g, SwapFree: 3 * g}, want: Stats{TotalBytes: 4 * g, UsedBytes: 1 * g}},
		"unused":         {in: procfs.Meminfo{SwapTotal: 4 * g, SwapFree: 4 * g}, want: Stats{TotalBytes: 4 * g}},
		"no swap":        {in: procfs.Meminfo{MemTotal: 4 * g}, want: Stats{}},
		"free above total": {
			in:   procfs.Meminfo{SwapTotal: 1 * g, SwapFree: 2 * g},
			want: Stats{TotalBytes: 1 * g},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := fromMeminfo(tt.in); got != tt.want {
				t.Fatalf("fromMeminfo() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
