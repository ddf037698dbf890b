package sqlite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Limits on event text, which comes from hosts' logs and is treated as
// hostile. The same as the PostgreSQL backend's, so both databases hold the
// same events. Channel, level, provider, computer and field names are cut
// at maxShortBytes.
const (
	maxMessageBytes    = 16 << 10
	maxFieldValueBytes = 4 << 10
	// maxEventFields is the most fields an event keeps; an event with more
	// keeps the first maxEventFields-1 (by name) and fieldsTruncatedKey.
	maxEventFields     = 256
	fieldsTruncatedKey = truncatedMark
)

// insertEventSQL stores an event unless its host already has one with the
// same channel and record id: a replayed round, or a cursor that overlaps
// the previous round's, stores it once, and the first row is kept.
const insertEventSQL = `
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (host_id, channel, record_id) DO NOTHING`

// eventRow is an event as its columns' values: cleaned text, NULLs as nil.
type eventRow struct {
	channel                            string
	recordID                           int64
	at                                 string
	level, provider, computer, message any
	eventID                            int
	fields                             string
}

// newEventRow turns e into its row; an event without a time takes seen,
// the end of its collection.
func newEventRow(e *storage.Event, seen time.Time) (eventRow, error) {
	fields, err := fieldsJSON(e.Fields)
	if err != nil {
		return eventRow{}, err
	}
	return eventRow{
		channel: cleanLine(e.Channel, maxShortBytes),
		// The unsigned record number keeps its 64 bits: numbers from 2^63
		// up are stored negative (docs/schema.md).
		recordID: int64(e.RecordID),
		at:       formatTime(firstNonZero(e.Time, seen)),
		level:    nullLine(e.Level, maxShortBytes),
		provider: nullLine(e.Provider, maxShortBytes),
		eventID:  e.EventID,
		computer: nullLine(e.Computer, maxShortBytes),
		message:  nullBlock(e.Message, maxMessageBytes),
		fields:   fields,
	}, nil
}

// fieldsJSON is the fields as a JSON object of cleaned strings with sorted
// keys, "{}" for none, with < > & left as they are. Past maxEventFields,
// the first names in sorted order are kept and fieldsTruncatedKey says how
// many were dropped.
func fieldsJSON(fields map[string]string) (string, error) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	clean := make(map[string]string, min(len(keys), maxEventFields))
	kept := keys
	if len(keys) > maxEventFields {
		kept = keys[:maxEventFields-1]
		clean[fieldsTruncatedKey] = fmt.Sprintf("%d more fields", len(keys)-len(kept))
	}
	for _, k := range kept {
		clean[cleanLine(k, maxShortBytes)] = cleanBlock(fields[k], maxFieldValueBytes)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clean); err != nil {
		return "", fmt.Errorf("encode event fields: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// cleanLine is cleanText with every control character (line breaks and
// tabs included) replaced by U+FFFD: for names and one-line values.
func cleanLine(s string, limit int) string {
	return cleanText(replaceControls(s, false), limit)
}

// cleanBlock is cleanText with control characters other than tab, line
// feed and carriage return replaced by U+FFFD: for messages and values
// that may span lines.
func cleanBlock(s string, limit int) string {
	return cleanText(replaceControls(s, true), limit)
}

// nullLine is NULL for the empty string, otherwise cleanLine.
func nullLine(s string, limit int) any {
	if s == "" {
		return nil
	}
	return cleanLine(s, limit)
}

// nullBlock is NULL for the empty string, otherwise cleanBlock.
func nullBlock(s string, limit int) any {
	if s == "" {
		return nil
	}
	return cleanBlock(s, limit)
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
