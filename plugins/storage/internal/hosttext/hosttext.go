// Package hosttext cleans text that comes from hosts (event messages and
// fields, error texts, hostnames) the same way in every built-in storage
// backend, so SQLite and PostgreSQL hold the same values: valid UTF-8, no
// NUL or steering control characters, cut at a limit and marked.
package hosttext

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Limits on host-supplied text. Channel, level, provider, computer and
// field names are cut at MaxShortBytes.
const (
	MaxErrorBytes      = 8 << 10
	MaxShortBytes      = 256
	MaxMessageBytes    = 16 << 10
	MaxFieldValueBytes = 4 << 10
	// MaxEventFields is the most fields an event keeps; an event with more
	// keeps the first MaxEventFields-1 (by name) and FieldsTruncatedKey.
	MaxEventFields     = 256
	TruncatedMark      = "…(truncated)"
	FieldsTruncatedKey = TruncatedMark
)

// Clean makes host-supplied text valid UTF-8 without NUL characters
// and at most limit bytes: the same text the PostgreSQL backend stores,
// which cannot hold NUL.
func Clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= limit {
		return s
	}
	cut := limit - len(TruncatedMark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + TruncatedMark
}

// Line is Clean with every control character (line breaks and
// tabs included) replaced by U+FFFD: for names and one-line values.
func Line(s string, limit int) string {
	return Clean(replaceControls(s, false), limit)
}

// Block is Clean with control characters other than tab, line
// feed and carriage return replaced by U+FFFD: for messages and values
// that may span lines.
func Block(s string, limit int) string {
	return Clean(replaceControls(s, true), limit)
}

// replaceControls makes s valid UTF-8 and replaces its control characters
// (C0, DEL, C1) by U+FFFD, keeping tab, line feed and carriage return when
// keepLayout is set. A terminal or a mail shown the text is not steered.
func replaceControls(s string, keepLayout bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if !unicode.IsControl(r) || keepLayout && (r == '\t' || r == '\n' || r == '\r') {
			return r
		}
		return '\uFFFD'
	}, s)
}

// FieldsJSON is the fields as a JSON object of cleaned strings with sorted
// keys, "{}" for none, with < > & left as they are. Past MaxEventFields,
// the first names in sorted order are kept and FieldsTruncatedKey says how
// many were dropped.
func FieldsJSON(fields map[string]string) (string, error) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	clean := make(map[string]string, min(len(keys), MaxEventFields))
	kept := keys
	if len(keys) > MaxEventFields {
		kept = keys[:MaxEventFields-1]
		clean[FieldsTruncatedKey] = fmt.Sprintf("%d more fields", len(keys)-len(kept))
	}
	for _, k := range kept {
		clean[Line(k, MaxShortBytes)] = Block(fields[k], MaxFieldValueBytes)
	}
	s, err := JSON(clean)
	if err != nil {
		return "", fmt.Errorf("encode event fields: %w", err)
	}
	return s, nil
}

// JSON is v as compact JSON text, with < > & left as they are: the way
// both backends store JSON that other applications read.
func JSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// Channel is a notification's channel as both backends store it: the
// default channel when it is empty (records from cores before channels),
// else one cleaned line of at most MaxShortBytes.
func Channel(s string) string {
	if s == "" {
		return storage.DefaultChannel
	}
	return Line(s, MaxShortBytes)
}
