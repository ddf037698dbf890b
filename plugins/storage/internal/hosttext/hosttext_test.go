package hosttext

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in    string
		limit int
		want  string
	}{
		"short":        {"abc", 10, "abc"},
		"exact":        {"abcdefghij", 10, "abcdefghij"},
		"invalid utf8": {"a\xffb", 10, "a\uFFFDb"},
		"nul":          {"a\x00b", 10, "a\uFFFDb"},
		"cut at rune":  {strings.Repeat("é", 20), len(TruncatedMark) + 5, "éé" + TruncatedMark},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Clean(tc.in, tc.limit); got != tc.want {
				t.Errorf("Clean(%q, %d) = %q; want %q", tc.in, tc.limit, got, tc.want)
			}
		})
	}
}
