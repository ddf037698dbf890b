package extmod

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cappedBuffer keeps at most max bytes of what is written to it. Beyond
// that, with overflow set, it records the overflow, calls overflow (which
// stops the module) and fails the write; without, it drops the excess.
type cappedBuffer struct {
	max        int
	overflow   func()
	overflowed bool
	buf        bytes.Buffer
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if len(p) <= room {
		return b.buf.Write(p)
	}
	b.buf.Write(p[:max(room, 0)])
	if b.overflow == nil {
		return len(p), nil
	}
	b.overflowed = true
	b.overflow()
	return 0, errOverflow{}
}

func (b *cappedBuffer) Bytes() []byte { return b.buf.Bytes() }

type errOverflow struct{}

func (errOverflow) Error() string { return "output limit reached" }

// stderrSummary is the first lines of a module's stderr, made safe to
// put in a report: at most three non-empty lines, 300 characters, control
// characters and invalid UTF-8 replaced.
func stderrSummary(stderr []byte) string {
	const maxLines, maxRunes = 3, 300
	var lines []string
	for line := range strings.Lines(string(stderr)) {
		line = strings.TrimSpace(sanitize(strings.TrimRight(line, "\r\n")))
		if line == "" {
			continue
		}
		if lines = append(lines, line); len(lines) == maxLines {
			break
		}
	}
	if len(lines) == 0 {
		return "(nothing on stderr)"
	}
	s := strings.Join(lines, " | ")
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return s
}

// sanitize replaces tabs with spaces, and every other character that is
// not printable (control and format characters, such as bidirectional
// overrides), invalid UTF-8 and U+FFFD with '?': the core refuses a report
// whose module error holds any of them.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

// clip shortens text from a host before it is quoted in an error.
func clip(s string) string {
	const maxRunes = 80
	s = sanitize(s)
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	return string([]rune(s)[:maxRunes]) + "…"
}
