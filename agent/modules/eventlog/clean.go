package eventlog

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// prepareXML turns the bytes of one rendered event into UTF-8 text the XML
// decoder accepts. The bytes decide the encoding, never the declaration:
// a UTF-16 byte order mark, or a '<' next to a NUL byte, means UTF-16;
// anything else is read as UTF-8. Input beyond MaxEventXMLBytes is cut
// (cut reports it), invalid UTF-8 becomes U+FFFD, and characters XML
// forbids (raw or as &#N; references: NUL and the other C0 controls but
// tab and line ends) are removed.
func prepareXML(b []byte) (doc string, cut bool) {
	var s string
	switch {
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE:
		s, cut = decodeUTF16(b[2:], false)
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		s, cut = decodeUTF16(b[2:], true)
	case len(b) >= 2 && b[0] == '<' && b[1] == 0:
		s, cut = decodeUTF16(b, false)
	case len(b) >= 2 && b[0] == 0 && b[1] == '<':
		s, cut = decodeUTF16(b, true)
	default:
		b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		if len(b) > MaxEventXMLBytes {
			b, cut = b[:MaxEventXMLBytes], true
		}
		s = string(b)
	}
	if len(s) > MaxEventXMLBytes {
		s, cut = s[:MaxEventXMLBytes], true
	}
	s = strings.TrimRight(s, "\x00") // EvtRender's terminating NUL
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if isXMLChar(r) {
			return r
		}
		return -1
	}, s)
	return dropIllegalCharRefs(s), cut
}

// decodeUTF16 decodes at most 2*MaxEventXMLBytes bytes of UTF-16; an odd
// last byte and unpaired surrogates become U+FFFD.
func decodeUTF16(b []byte, bigEndian bool) (string, bool) {
	cut := false
	if len(b) > 2*MaxEventXMLBytes {
		b, cut = b[:2*MaxEventXMLBytes], true
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	s := string(utf16.Decode(units))
	if len(b)%2 == 1 {
		s += "\uFFFD"
	}
	return s, cut
}

// isXMLChar reports whether XML 1.0 allows r in a document.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= unicode.MaxRune
}

// dropIllegalCharRefs removes character references (&#1; &#x1B;) to
// characters XML forbids, which Windows may render for control characters
// in event data and which the decoder would refuse.
func dropIllegalCharRefs(s string) string {
	if !strings.Contains(s, "&#") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, "&#")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		end := strings.IndexByte(s, ';')
		if end < 0 || end > 32 {
			b.WriteString("&#")
			s = s[2:]
			continue
		}
		if ref := s[2:end]; validCharRef(ref) || !wellFormedCharRef(ref) {
			b.WriteString(s[:end+1])
		}
		s = s[end+1:]
	}
}

// wellFormedCharRef reports whether ref (between "&#" and ";") is decimal
// digits or "x" and hex digits; anything else is left for the decoder to
// refuse.
func wellFormedCharRef(ref string) bool {
	digits, base := ref, 10
	if strings.HasPrefix(ref, "x") {
		digits, base = ref[1:], 16
	}
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
			return false
		}
	}
	return true
}

// validCharRef reports whether a well-formed ref names a character XML
// allows.
func validCharRef(ref string) bool {
	digits, base := ref, 10
	if strings.HasPrefix(ref, "x") {
		digits, base = ref[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 32)
	return err == nil && n <= unicode.MaxRune && isXMLChar(rune(n))
}

// cleanValue makes text from an event safe to show on one line: each run
// of tabs and line ends becomes one space, other control characters and
// bidirectional-text controls are removed, surrounding space is trimmed,
// and the result is cut to limit bytes (ending in "…" when cut).
func cleanValue(s string, limit int) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			space = true
			continue
		case unicode.IsControl(r) || isBidiControl(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return capText(strings.TrimSpace(b.String()), limit)
}

// cleanMessage is cleanValue for multi-line text: line ends and tabs are
// kept (a CR LF pair becomes LF), other controls are removed.
func cleanMessage(s string, limit int) (string, bool) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r) || isBidiControl(r):
			return -1
		}
		return r
	}, s)
	return capText(strings.TrimSpace(s), limit)
}

// capText cuts s to at most limit bytes on a rune boundary, marking the
// cut with "…".
func capText(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	const ellipsis = "…"
	n := max(limit-len(ellipsis), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis, true
}

// isBidiControl reports the characters that reorder displayed text, which
// can make a name in a mail read as something else.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F ||
		r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}
