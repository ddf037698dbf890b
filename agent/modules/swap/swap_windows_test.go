package swap

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/agent/internal/wine"
)

func TestReadPageFile(t *testing.T) {
	const gib = 1 << 30
	ms := memoryStatus{totalPhys: 8 * gib, availPhys: 2 * gib, totalPageFile: 12 * gib, availPageFile: 4 * gib}
	tests := map[string]struct {
		percent    float64
		percentErr error
		status     memoryStatus
		statusErr  error
		want       Stats
		wantErr    string
	}{
		"counter":                 {percent: 25, status: ms, want: Stats{TotalBytes: 4 * gib, UsedBytes: 1 * gib}},
		"counter fails: estimate": {percentErr: pdhCstatusNoObject, status: ms, want: Stats{TotalBytes: 4 * gib, UsedBytes: 2 * gib}},
		"counter out of range":    {percent: 250, status: ms, want: Stats{TotalBytes: 4 * gib, UsedBytes: 2 * gib}},
		"estimate below zero":     {percentErr: pdhNoData, status: memoryStatus{totalPhys: 8 * gib, availPhys: 1 * gib, totalPageFile: 12 * gib, availPageFile: 10 * gib}, want: Stats{TotalBytes: 4 * gib}},
		"estimate above total":    {percentErr: pdhNoData, status: memoryStatus{totalPhys: 8 * gib, availPhys: 8 * gib, totalPageFile: 12 * gib}, want: Stats{TotalBytes: 4 * gib, UsedBytes: 4 * gib}},
		"no page file":            {percent: 10, status: memoryStatus{totalPhys: 8 * gib, totalPageFile: 8 * gib}, want: Stats{}},
		"memory status fails":     {statusErr: errors.New("GlobalMemoryStatusEx: denied"), wantErr: "GlobalMemoryStatusEx: denied"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := readPageFile(
				func() (float64, error) { return tc.percent, tc.percentErr },
				func() (memoryStatus, error) { return tc.status, tc.statusErr })
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case got != tc.want:
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPDHStatusError(t *testing.T) {
	tests := map[pdhStatus]string{
		pdhCstatusNoObject: "PDH status 0xC0000BB8 (PDH_CSTATUS_NO_OBJECT",
		pdhNoData:          "PDH status 0x800007D5 (PDH_NO_DATA",
		0xC0000BFF:         "PDH status 0xC0000BFF",
	}
	for s, want := range tests {
		if got := s.Error(); !strings.HasPrefix(got, want) {
			t.Errorf("%#x: %q, want it to begin %q", uint32(s), got, want)
		}
	}
}

// TestPagingPercent reads the real counter. Wine has no Paging File
// counter: there the read must fail with the PDH status, not with the
// "The operation completed successfully." it used to say.
func TestPagingPercent(t *testing.T) {
	p, err := pagingPercent()
	if wine.Running() {
		var st pdhStatus
		if err == nil || !errors.As(err, &st) || strings.Contains(err.Error(), "success") {
			t.Fatalf("under Wine: %v, %v; want an error naming the PDH status", p, err)
		}
		t.Skipf("Wine has no PDH Paging File counter (%v); the rest needs Windows", err)
	}
	if err != nil || p < 0 || p > 100 {
		t.Fatalf("pagingPercent() = %v, %v; want 0..100", p, err)
	}
}

// TestPageFileReader reads the real host (under Wine through the
// GlobalMemoryStatusEx estimate).
func TestPageFileReader(t *testing.T) {
	s, err := PageFileReader{}.Read(context.Background())
	if err != nil || s.UsedBytes > s.TotalBytes {
		t.Fatalf("Read() = %+v, %v", s, err)
	}
}
