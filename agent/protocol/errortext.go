package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxErrorBytes is the longest ModuleResult.Error the core accepts by
// default; a longer one makes it refuse the whole report.
const MaxErrorBytes = 4096

// ErrorText makes msg fit ModuleResult.Error as the core checks it: valid
// UTF-8 made of printable characters, tabs and newlines, without U+FFFD
// (which the core takes for bytes that were not UTF-8), and at most
// MaxErrorBytes. Every other character becomes '?'; a longer text is cut
// at a character boundary and ends with "…". An error message may quote
// anything a host or a module printed: the agent passes each one through
// ErrorText, so that one module's error never costs the whole report.
func ErrorText(msg string) string {
	msg = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r != utf8.RuneError && unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, msg)
	if len(msg) <= MaxErrorBytes {
		return msg
	}
	const ellipsis = "…"
	cut := MaxErrorBytes - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + ellipsis
}
