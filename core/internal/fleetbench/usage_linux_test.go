package fleetbench

import "testing"

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
