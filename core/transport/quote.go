package transport

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// shellQuote quotes s as one word for a POSIX shell: inside single quotes
// nothing is special, and each single quote closes the quoting, is
// escaped with a backslash and reopens it.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// posixCommand runs script with /bin/sh whatever the login shell is (csh,
// fish), so the script's syntax means the same on every host.
func posixCommand(script string) string {
	return "/bin/sh -c " + shellQuote(script)
}

// hasControl reports whether s has control characters or invalid UTF-8:
// such text from a host is never put on a command line.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.ContainsFunc(s, unicode.IsControl)
}

// sanitize makes text from a host fit for an error message: at most
// maxLines non-empty lines joined with " | ", non-printable characters
// replaced by '?', and at most maxRunes characters.
func sanitize(text []byte, maxLines, maxRunes int) string {
	var lines []string
	for line := range strings.Lines(string(text)) {
		if len(lines) == maxLines {
			break
		}
		line = strings.Map(func(r rune) rune {
			if r == utf8.RuneError || !unicode.IsPrint(r) {
				return '?'
			}
			return r
		}, strings.TrimRight(line, "\r\n"))
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	out := strings.Join(lines, " | ")
	if utf8.RuneCountInString(out) > maxRunes {
		out = string([]rune(out)[:maxRunes]) + "..."
	}
	return out
}
