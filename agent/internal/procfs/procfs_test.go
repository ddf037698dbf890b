package procfs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixture reads testdata/name.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStat(t *testing.T) {
	tests := map[string]struct {
		want    Stat
		wantErr bool
	}{
		"stat-2cpu": {want: Stat{CPUs: 2, All: CPUTimes{
			User: 725501, Nice: 182, System: 187110, Idle: 260264, IOWait: 4993, SoftIRQ: 4661, Steal: 1231,
		}}},
		"stat-2.6.11": {want: Stat{CPUs: 1, All: CPUTimes{User: 100, System: 50, Idle: 1000}}},
		"stat-cpu1-offline": {want: Stat{CPUs: 3, All: CPUTimes{
			User: 4705, Nice: 356, System: 584, Idle: 3699, IOWait: 23, IRQ: 23,
		}}},
		"stat-no-cpu":      {wantErr: true},
		"stat-bad-counter": {wantErr: true},
		"stat-short":       {wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseStat(fixture(t, name))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseStat() error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseStat() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBusyPercent(t *testing.T) {
	base := CPUTimes{User: 1000, Nice: 10, System: 500, Idle: 8000, IOWait: 100, IRQ: 5, SoftIRQ: 5, Steal: 0}
	tests := map[string]struct {
		before, after CPUTimes
		want          float64
	}{
		"a quarter busy": {
			before: base,
			after:  CPUTimes{User: 1020, Nice: 10, System: 505, Idle: 8070, IOWait: 105, IRQ: 5, SoftIRQ: 5},
			want:   25,
		},
		"idle": {before: base, after: CPUTimes{User: 1000, Nice: 10, System: 500, Idle: 8100, IOWait: 100, IRQ: 5, SoftIRQ: 5}, want: 0},
		"waiting for I/O is not busy": {
			before: base,
			after:  CPUTimes{User: 1000, Nice: 10, System: 500, Idle: 8000, IOWait: 200, IRQ: 5, SoftIRQ: 5},
			want:   0,
		},
		"guest time is counted once": {
			// Linux adds guest time to user as well as to guest.
			before: base,
			after:  CPUTimes{User: 1050, Nice: 10, System: 500, Idle: 8050, IOWait: 100, IRQ: 5, SoftIRQ: 5, Guest: 50},
			want:   50,
		},
		"steal is busy": {
			before: base,
			after:  CPUTimes{User: 1000, Nice: 10, System: 500, Idle: 8000, IOWait: 100, IRQ: 5, SoftIRQ: 5, Steal: 10},
			want:   100,
		},
		"no time passed": {before: base, after: base, want: 0},
		"counters stepped back": {
			// A CPU went offline between the samples: its counters left the sum.
			before: base,
			after:  CPUTimes{User: 900, System: 400, Idle: 7000},
			want:   0,
		},
		"busy grew, total did not": {
			before: base,
			after:  CPUTimes{User: 1100, Nice: 10, System: 500, Idle: 7800, IOWait: 100, IRQ: 5, SoftIRQ: 5},
			want:   100,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := BusyPercent(tt.before, tt.after); got != tt.want {
				t.Fatalf("BusyPercent() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseMeminfo(t *testing.T) {
	const k = 1024
	tests := map[string]struct {
		want    Meminfo
		wantErr bool
	}{
		"meminfo-noswap": {want: Meminfo{
			MemTotal: 24683784 * k, MemFree: 19404244 * k, MemAvailable: 23785324 * k, HasMemAvailable: true,
			Buffers: 50216 * k, Cached: 4332216 * k, SReclaimable: 458096 * k,
		}},
		"meminfo-swap": {want: Meminfo{
			MemTotal: 8029412 * k, MemFree: 512344 * k, MemAvailable: 3870112 * k, HasMemAvailable: true,
			Buffers: 204816 * k, Cached: 3012556 * k, SReclaimable: 298764 * k,
			SwapTotal: 2097148 * k, SwapFree: 1572860 * k,
		}},
		"meminfo-2.6.32": {want: Meminfo{
			MemTotal: 1020140 * k, MemFree: 120312 * k, Buffers: 51200 * k, Cached: 402400 * k,
			SReclaimable: 30720 * k, SwapTotal: 1048572 * k, SwapFree: 1048572 * k,
		}},
		"meminfo-noswap-config": {want: Meminfo{
			MemTotal: 262144 * k, MemFree: 65536 * k, MemAvailable: 131072 * k, HasMemAvailable: true,
			Buffers: 4096 * k, Cached: 32768 * k,
		}},
		"meminfo-no-total":  {wantErr: true},
		"meminfo-bad-value": {wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMeminfo(fixture(t, name))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseMeminfo() error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseMeminfo() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseUptime(t *testing.T) {
	tests := map[string]struct {
		want    time.Duration
		wantErr bool
	}{
		"uptime-recorded": {want: 5952*time.Second + 550*time.Millisecond},
		"uptime-long":     {want: 350735*time.Second + 470*time.Millisecond},
		"uptime-empty":    {wantErr: true},
		"uptime-negative": {wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseUptime(fixture(t, name))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseUptime() error = %v, want error %v", err, tt.wantErr)
			}
			if diff := got - tt.want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Fatalf("ParseUptime() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseLoadavg(t *testing.T) {
	tests := map[string]struct {
		want    Loadavg
		wantErr bool
	}{
		"loadavg-recorded": {want: Loadavg{One: 0.65, Five: 1.23, Fifteen: 2.46}},
		"loadavg-idle":     {want: Loadavg{One: 0, Five: 0.01, Fifteen: 0.05}},
		"loadavg-short":    {wantErr: true},
		"loadavg-bad":      {wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseLoadavg(fixture(t, name))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLoadavg() error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseLoadavg() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseCPUList(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    int
		wantErr bool
	}{
		"one":            {in: "0\n", want: 1},
		"range":          {in: "0-1\n", want: 2},
		"holes":          {in: "0-3,8,10-11\n", want: 7},
		"empty":          {in: "\n", wantErr: true},
		"backwards":      {in: "3-1", wantErr: true},
		"not a number":   {in: "0-x", wantErr: true},
		"trailing comma": {in: "0,", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseCPUList([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCPUList(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseCPUList(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
