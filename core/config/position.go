package config

import (
	"bytes"
	"sort"
	"unicode/utf8"
)

// utf8BOM is the byte order mark some Windows editors put at the start of
// a UTF-8 file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sourceFile is the original bytes of a configuration file with an index
// of line starts, so that byte offsets turn into file:line:col positions.
// Columns count characters (Unicode code points), as editors do; a tab
// counts as one.
type sourceFile struct {
	path       string
	data       []byte
	lineStarts []int
}

func newSourceFile(path string, data []byte) *sourceFile {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &sourceFile{path: path, data: data, lineStarts: starts}
}

// pos returns the position of byte offset off of the original file. An
// offset in the middle of a multi-byte character points at that character.
func (f *sourceFile) pos(off int) Pos {
	off = max(0, min(off, len(f.data)))
	line := sort.Search(len(f.lineStarts), func(i int) bool { return f.lineStarts[i] > off }) - 1
	start := f.lineStarts[line]
	if start == 0 && bytes.HasPrefix(f.data, utf8BOM) && off >= len(utf8BOM) {
		start = len(utf8BOM) // editors do not show the mark, so it is no column
	}
	for off > start && off < len(f.data) && !utf8.RuneStart(f.data[off]) {
		off--
	}
	return Pos{File: f.path, Line: line + 1, Col: utf8.RuneCount(f.data[start:off]) + 1}
}

// filePos is the position of the file as a whole, for problems that have
// no line, such as a missing file.
func (f *sourceFile) filePos() Pos { return Pos{File: f.path} }

// withoutBOM returns a copy of data whose leading byte order mark, if any,
// is replaced by spaces: both XML and JSON skip them, and every byte
// offset stays the same as in the original file.
func withoutBOM(data []byte) []byte {
	out := bytes.Clone(data)
	if bytes.HasPrefix(out, utf8BOM) {
		copy(out, "   ")
	}
	return out
}
