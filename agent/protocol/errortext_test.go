package protocol

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestErrorText(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":               {"module failed: no such file", "module failed: no such file"},
		"tabs and newlines":   {"line one\n\tline two", "line one\n\tline two"},
		"escape sequence":     {"user \x1b[31mroot\x07", "user ?[31mroot?"},
		"invalid UTF-8":       {"bad \xff\xfe byte", "bad ?? byte"},
		"replacement char":    {"time \"\uFFFD\"", "time \"?\""},
		"bidi override":       {"file \u202etxt.exe", "file ?txt.exe"},
		"non-ASCII printable": {"Jürgen’s 日本", "Jürgen’s 日本"},
		"cut at a boundary":   {strings.Repeat("é", MaxErrorBytes), strings.Repeat("é", (MaxErrorBytes-len("…"))/2) + "…"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ErrorText(tc.in); got != tc.want {
				t.Errorf("ErrorText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzErrorText: whatever the message, ErrorText gives text the core
// accepts as a module's error (valid UTF-8, printable characters, tabs
// and newlines, no U+FFFD, at most MaxErrorBytes), and leaves such text
// as it is.
func FuzzErrorText(f *testing.F) {
	for _, s := range []string{"", "module failed", "a\x00b\xff\uFFFD\u202e\n\t", strings.Repeat("日", 1400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		reportable := func(s string) bool {
			return len(s) <= MaxErrorBytes && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
				return r == utf8.RuneError || !unicode.IsPrint(r) && r != '\n' && r != '\t'
			})
		}
		got := ErrorText(msg)
		if !reportable(got) {
			t.Fatalf("ErrorText(%q) = %q: not reportable", msg, got)
		}
		if reportable(msg) && got != msg {
			t.Errorf("ErrorText(%q) = %q: reportable text changed", msg, got)
		}
	})
}
