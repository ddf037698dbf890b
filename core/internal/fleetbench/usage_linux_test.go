package fleetbench

import (
	"os"
	"testing"
	"time"
)

// parseCase is an input of a parser and what it should give.
type parseCase[T comparable] struct {
	in      string
	want    T
	wantErr bool
}

// testParse runs parse, named name in messages, on every case.
func testParse[T comparable](t *testing.T, name string, parse func([]byte) (T, error), tests map[string]parseCase[T]) {
	t.Helper()
	for caseName, tc := range tests {
		t.Run(caseName, func(t *testing.T) {
			got, err := parse([]byte(tc.in))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("%s = %v, %v; want %v, error %v", name, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	parse := func(status []byte) (int64, error) { return parseStatusBytes(status, "VmRSS:") }
	testParse(t, "parseStatusBytes VmRSS", parse, map[string]parseCase[int64]{
		"present": {in: "Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t 10 kB\n", want: 10 * 1024},
		"missing": {in: "Name:\tx\nVmHWM:\t 2048 kB\n", wantErr: true},
	})
}

func TestParseVMHWM(t *testing.T) {
	testParse(t, "parseVMHWM", parseVMHWM, map[string]parseCase[int64]{
		"present": {in: "Name:\tx\nVmPeak:\t 100 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 10 kB\n", want: 2048 * 1024},
		"missing": {in: "Name:\tx\n", wantErr: true},
		"garbled": {in: "VmHWM:\tlots kB\n", wantErr: true},
	})
}

func TestParseMachineBusy(t *testing.T) {
	testParse(t, "parseMachineBusy", parseMachineBusy, map[string]parseCase[time.Duration]{
		// user nice system idle iowait irq softirq steal guest guest_nice
		"busy fields summed": {in: "cpu  100 20 30 5000 40 1 2 3 7 0\ncpu0 50 10 15 2500 20 0 1 1 0 0\n", want: 156 * 10 * time.Millisecond},
		"too few fields":     {in: "cpu  100 20 30\n", wantErr: true},
		"not a cpu line":     {in: "intr 1 2 3 4 5 6 7 8 9\n", wantErr: true},
		"garbled figure":     {in: "cpu  100 x 30 5000 40 1 2 3\n", wantErr: true},
	})
}

func TestOpenFDs(t *testing.T) {
	dir := t.TempDir()
	before, err := openFDs()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "fd") // a regular file: no poller's descriptors
	if err != nil {
		t.Fatal(err)
	}
	opened, err := openFDs()
	f.Close()
	closed, err2 := openFDs()
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	if opened != before+1 || closed != before {
		t.Errorf("open fds: %d, %d with one more file open, %d once closed; want %d, %d, %d", before, opened, closed, before, before+1, before)
	}
}
