package fleetbench

import (
	"testing"
	"time"
)

func TestParseVMHWM(t *testing.T) {
	tests := map[string]struct {
		status  string
		want    int64
		wantErr bool
	}{
		"present": {status: "Name:\tx\nVmPeak:\t 100 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 10 kB\n", want: 2048 * 1024},
		"missing": {status: "Name:\tx\n", wantErr: true},
		"garbled": {status: "VmHWM:\tlots kB\n", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseVMHWM([]byte(tc.status))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseVMHWM = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseMachineBusy(t *testing.T) {
	tests := map[string]struct {
		stat    string
		want    time.Duration
		wantErr bool
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice
		"busy fields summed": {stat: "cpu  100 20 30 5000 40 1 2 3 7 0\ncpu0 50 10 15 2500 20 0 1 1 0 0\n", want: 156 * 10 * time.Millisecond},
		"too few fields":     {stat: "cpu  100 20 30\n", wantErr: true},
		"not a cpu line":     {stat: "intr 1 2 3 4 5 6 7 8 9\n", wantErr: true},
		"garbled figure":     {stat: "cpu  100 x 30 5000 40 1 2 3\n", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseMachineBusy([]byte(tc.stat))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseMachineBusy = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
