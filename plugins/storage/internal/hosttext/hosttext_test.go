package hosttext

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in, want string
		limit    int
	}{
		"short":        {"abc", "abc", 10},
		"exact":        {"abcdefghij", "abcdefghij", 10},
		"invalid utf8": {"a\xffb", "a\uFFFDb", 10},
		"nul":          {"a\x00b", "a\uFFFDb", 10},
		"cut at rune":  {strings.Repeat("é", 20), "éé" + TruncatedMark, len(TruncatedMark) + 5},
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
