package net

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseNetDev(t *testing.T) {
	tests := map[string]struct {
		file    string // under testdata, or
		text    string // inline
		want    []Interface
		wantErr string
	}{
		"typical": {file: "netdev_typical.txt", want: []Interface{
			{Name: "lo", Counters: Counters{RxBytes: 47164, RxPackets: 595, TxBytes: 47164, TxPackets: 595}},
			{Name: "eth0", Counters: Counters{RxBytes: 146859743, RxPackets: 5815, RxErrors: 1, RxDrops: 2, TxBytes: 437121, TxPackets: 4208, TxErrors: 3, TxDrops: 4}},
			{Name: "docker0"},
			{Name: "vethab12cd3", Counters: Counters{RxBytes: 1500, RxPackets: 12, TxBytes: 2500, TxPackets: 20}},
		}},
		"odd spacing, glued names, tabs, extra columns": {file: "netdev_odd.txt", want: []Interface{
			{Name: "eth0", Counters: Counters{RxBytes: 1<<64 - 1, RxPackets: 1, RxErrors: 2, RxDrops: 3, TxBytes: 8, TxPackets: 9, TxErrors: 10, TxDrops: 11}},
			{Name: "wlp3s0", Counters: Counters{RxBytes: 10, RxPackets: 20, RxErrors: 30, RxDrops: 40, TxBytes: 50, TxPackets: 60, TxErrors: 70, TxDrops: 80}},
			{Name: "enp0s31f6", Counters: Counters{RxBytes: 1, RxPackets: 2, RxErrors: 3, RxDrops: 4, TxBytes: 9, TxPackets: 10, TxErrors: 11, TxDrops: 12}},
		}},
		"headers only":   {file: "netdev_headers_only.txt", want: nil},
		"CRLF":           {text: "lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\r\n", want: []Interface{{Name: "lo", Counters: Counters{1, 2, 3, 4, 9, 10, 11, 12}}}},
		"missing fields": {file: "netdev_missing.txt", wantErr: `line 4 "eth0: 146859743    5815    0    0    0     0          0         0   437121    4208    0    0": 12 counters, want 16`},
		"empty":          {text: "", wantErr: "empty"},
		"no colon":       {text: "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", wantErr: `line 1 "eth0 1 2 3`},
		"no name":        {text: "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", wantErr: `line 1 ": 1 2 3`},
		"dot dot":        {text: "..: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", wantErr: `".." is not an interface name`},
		"not a number":   {text: "eth0: 1 2 3 4 5 6 7 8 9 x 11 12 13 14 15 16\n", wantErr: `line 1 "eth0: 1 2 3 4 5 6 7 8 9 x 11 12 13 14 15 16": counter 10 "x" is not a number`},
		"negative":       {text: "eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", wantErr: `counter 1 "-1" is not a number`},
		"overflow":       {text: "eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", wantErr: "counter 1"},
		"second name":    {text: "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\neth1: 1 2\n", wantErr: `line 2 "eth1: 1 2": 2 counters, want 16`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := []byte(tc.text)
			if tc.file != "" {
				var err error
				if b, err = os.ReadFile(filepath.Join("testdata", tc.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := parseNetDev(b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseNetDev error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseNetDev: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseNetDev =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("a", 300)
	if got := clip([]byte(long)); got != long[:200]+"..." {
		t.Fatalf("clip = %q", got)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"eth0": true, "br-1a2b": true, "wg0": true, "": false, ".": false, "..": false, "a/b": false, "a b": false, "a\tb": false, "...": true} {
		if got := validName([]byte(name)); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}
