package extmod

import (
	"strings"
	"testing"
)

func TestStderrSummary(t *testing.T) {
	tests := map[string]struct {
		stderr string
		want   string
	}{
		"empty":              {stderr: "", want: "(nothing on stderr)"},
		"blank lines":        {stderr: "\n \r\n\t\n", want: "(nothing on stderr)"},
		"one line":           {stderr: "cannot read utmp\n", want: "cannot read utmp"},
		"first three lines":  {stderr: "a\n\nb\r\nc\nd\n", want: "a | b | c"},
		"control characters": {stderr: "bad\x1b[31m red\x00\tend", want: "bad?[31m red? end"},
		"invalid utf-8":      {stderr: "caf\xe9", want: "caf?"},
		"long":               {stderr: strings.Repeat("é", 400), want: strings.Repeat("é", 300) + "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := stderrSummary([]byte(tc.stderr)); got != tc.want {
				t.Errorf("stderrSummary(%q) = %q, want %q", tc.stderr, got, tc.want)
			}
		})
	}
}

func TestCappedBuffer(t *testing.T) {
	tests := map[string]struct {
		stop           bool
		writes         []string
		want           string
		wantOverflowed bool
	}{
		"within the cap":          {writes: []string{"ab", "cd"}, want: "abcd"},
		"exactly the cap":         {writes: []string{"abcde"}, want: "abcde"},
		"excess dropped":          {writes: []string{"abc", "defg", "h"}, want: "abcde"},
		"excess stops the module": {stop: true, writes: []string{"abc", "defg"}, want: "abcde", wantOverflowed: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stopped := false
			b := &cappedBuffer{max: 5}
			if tc.stop {
				b.overflow = func() { stopped = true }
			}
			var failed bool
			for _, w := range tc.writes {
				n, err := b.Write([]byte(w))
				if err != nil {
					failed = true
				} else if n != len(w) {
					t.Errorf("Write(%q) = %d without error", w, n)
				}
			}
			if string(b.Bytes()) != tc.want || b.overflowed != tc.wantOverflowed || stopped != tc.wantOverflowed || failed != tc.wantOverflowed {
				t.Errorf("kept %q overflowed %v stopped %v write failed %v; want %q %v", b.Bytes(), b.overflowed, stopped, failed, tc.want, tc.wantOverflowed)
			}
		})
	}
}
