package config

import (
	"bytes"
	"unicode/utf8"
)

// The requirements' sample config.xml writes attribute values between
// typographic quotes (ip=’127.0.0.1’), which word processors produce and
// XML does not accept. straightenQuotes rewrites such delimiters, and only
// those, into straight quotes before the XML decoder sees the file.
//
// Each typographic quote is three bytes in UTF-8. An opening one becomes
// two spaces and a straight quote ("  '"), a closing one a straight quote
// and two spaces ("'  "): XML allows white space around the = of an
// attribute and after its value, so the file means the same, and every
// byte keeps its offset, so positions computed on the rewritten bytes
// point at the same place in the original file.

// typographicQuote reports whether r is a typographic quote and which
// family ('\” for single, '"' for double) it belongs to.
func typographicQuote(r rune) (family byte, ok bool) {
	switch r {
	case '\u2018', '\u2019': // ‘ ’
		return '\'', true
	case '\u201C', '\u201D': // “ ”
		return '"', true
	}
	return 0, false
}

// rawAttr is an attribute as written in a start tag.
type rawAttr struct {
	name    string
	nameOff int // byte offset of the attribute name
	// open and close are the typographic quotes that delimited the value,
	// or 0 when the value was in straight quotes.
	open, close rune
	straight    byte   // the straight quote that replaced open and close
	value       string // the value as written between typographic quotes
}

func (a rawAttr) typographic() bool { return a.open != 0 }

// straightenQuotes returns a copy of data in which typographic quotes
// around attribute values in start tags are replaced by straight quotes,
// keeping every byte offset. It also returns, by the offset of each start
// tag's '<', the attributes it rewrote there. Typographic quotes anywhere
// else — inside a straight-quoted value, in text, in comments — are left
// alone.
func straightenQuotes(data []byte) ([]byte, map[int][]rawAttr) {
	out := bytes.Clone(data)
	rewritten := map[int][]rawAttr{}
	for i := 0; i < len(out); {
		lt := bytes.IndexByte(out[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		rest := out[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(out, i+4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			i = skipPast(out, i+9, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skipPast(out, i+2, "?>")
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("</")):
			i = skipPast(out, i+2, ">")
		default:
			end, attrs := scanStartTag(out, i, true)
			var changed []rawAttr
			for _, a := range attrs {
				if a.typographic() {
					changed = append(changed, a)
				}
			}
			if len(changed) > 0 {
				rewritten[i] = changed
			}
			i = max(end, i+1)
		}
	}
	return out, rewritten
}

// skipPast returns the offset just after the first end at or after from,
// or len(b) when there is none.
func skipPast(b []byte, from int, end string) int {
	if from >= len(b) {
		return len(b)
	}
	k := bytes.Index(b[from:], []byte(end))
	if k < 0 {
		return len(b)
	}
	return from + k + len(end)
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanStartTag reads the start tag whose '<' is at b[lt] and returns the
// offset just after it and its attributes. With straighten set it rewrites
// typographic quotes around values in place (see straightenQuotes).
// The scan is lenient: on malformed input it stops early and leaves the
// reporting to the XML decoder.
func scanStartTag(b []byte, lt int, straighten bool) (end int, attrs []rawAttr) {
	k := lt + 1
	for k < len(b) && !isXMLSpace(b[k]) && b[k] != '>' && b[k] != '/' && b[k] != '<' {
		k++
	}
	skipSpace := func() {
		for k < len(b) && isXMLSpace(b[k]) {
			k++
		}
	}
	for {
		skipSpace()
		if k >= len(b) {
			return len(b), attrs
		}
		switch b[k] {
		case '>':
			return k + 1, attrs
		case '<':
			return k, attrs
		case '/':
			k++
			continue
		}
		nameOff := k
		for k < len(b) && !isXMLSpace(b[k]) && b[k] != '=' && b[k] != '>' && b[k] != '/' && b[k] != '<' {
			k++
		}
		if k == nameOff { // a stray '='
			k++
			continue
		}
		a := rawAttr{name: string(b[nameOff:k]), nameOff: nameOff}
		skipSpace()
		if k >= len(b) || b[k] != '=' {
			attrs = append(attrs, a)
			continue
		}
		k++
		skipSpace()
		if k >= len(b) {
			attrs = append(attrs, a)
			return len(b), attrs
		}
		if q := b[k]; q == '\'' || q == '"' {
			closing := bytes.IndexByte(b[k+1:], q)
			attrs = append(attrs, a)
			if closing < 0 {
				return len(b), attrs
			}
			k += 1 + closing + 1
			continue
		}
		if straighten {
			if next, ok := straightenValue(b, k, &a); ok {
				k = next
			}
		}
		attrs = append(attrs, a)
	}
}

// straightenValue rewrites the typographically quoted value starting at
// b[k], if there is one, and returns the offset after its closing quote.
//
// The closing quote is the first quote of the same family that is followed
// by white space, '>', '/' or the end of the file, so a value such as
// ’it’s’ keeps its inner apostrophe. A value must end on its own line.
func straightenValue(b []byte, k int, a *rawAttr) (next int, ok bool) {
	open, size := utf8.DecodeRune(b[k:])
	family, ok := typographicQuote(open)
	if !ok {
		return 0, false
	}
	start := k + size
	for m := start; m < len(b); {
		if b[m] == '<' || b[m] == '\n' {
			return 0, false
		}
		r, sz := utf8.DecodeRune(b[m:])
		if f, isQuote := typographicQuote(r); isQuote && f == family {
			after := m + sz
			if after == len(b) || isXMLSpace(b[after]) || b[after] == '>' || b[after] == '/' {
				value := string(b[start:m])
				straight := byte('\'')
				if bytes.IndexByte(b[start:m], '\'') >= 0 {
					straight = '"'
					if bytes.IndexByte(b[start:m], '"') >= 0 {
						return 0, false // no straight quote can delimit it
					}
				}
				copy(b[k:], []byte{' ', ' ', straight})
				copy(b[m:], []byte{straight, ' ', ' '})
				a.open, a.close, a.straight, a.value = open, r, straight, value
				return after, true
			}
		}
		m += sz
	}
	return 0, false
}
