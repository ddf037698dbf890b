package authlog

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// Channel is the channel of every event this module yields.
const Channel = "auth"

// Event ids of the events this module yields.
const (
	// EventLoginAccepted: a login succeeded (sshd "Accepted ...", login).
	EventLoginAccepted = 1
	// EventLoginFailed: a login failed (wrong password or key, unknown user).
	EventLoginFailed = 2
	// EventSudoCommand: sudo ran a command for a user.
	EventSudoCommand = 3
	// EventSudoFailed: sudo refused a user (bad password, not in sudoers).
	EventSudoFailed = 4
	// EventTruncated: more records were waiting than one round returns;
	// the rest follow next round.
	EventTruncated = 9
)

// Levels of the events.
const (
	levelInfo    = "information"
	levelWarning = "warning"
)

// Bounds on what is copied out of a hostile log line.
const (
	maxMessage = 1024
	maxField   = 256
	// maxLine is the longest line parsed; longer ones are cut.
	maxLine = 8 << 10
)

// record is one log line before it becomes an event.
type record struct {
	time     time.Time
	host     string
	provider string
	message  string
}

var sudoFailures = []string{"incorrect password attempt", "user NOT in sudoers", "NOT allowed to run", "command not allowed"}

// parseLine splits an auth log line: syslog's "Jan  2 15:04:05 host
// sshd[1]: msg", rsyslog's RFC 3339 form, or a bare sshd message as
// "sshd -e" writes it. now stands in for a missing timestamp and year, and
// for one outside the years 0000 to 9999 in UTC.
func parseLine(line string, now time.Time, loc *time.Location) record {
	line = strings.TrimRight(line, "\r\n")
	if len(line) > maxLine {
		line = line[:maxLine]
	}
	if m := matchSyslogISO(line); m != nil {
		t, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil || !encodable(t) {
			t = now
		}
		return record{time: t.UTC(), host: m[2], provider: m[3], message: m[4]}
	}
	if m := matchSyslogBSD(line); m != nil {
		return record{time: bsdTime(m[1], now, loc), host: m[2], provider: m[3], message: m[4]}
	}
	return record{time: now.UTC(), message: line}
}

// encodable reports whether t, in UTC, can stand in a report: JSON times
// have years 0000 to 9999, and one event outside them would keep the agent
// from encoding its whole report.
func encodable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// bsdTime reads a year-less syslog time: this year, or last year when
// that would put it more than a day in the future.
func bsdTime(s string, now time.Time, loc *time.Location) time.Time {
	t, err := time.ParseInLocation("Jan _2 15:04:05", s, loc)
	if err != nil {
		return now.UTC()
	}
	t = t.AddDate(now.In(loc).Year(), 0, 0)
	if t.After(now.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t.UTC()
}

// journalEntry is the part of a `journalctl -o json` line the module reads.
// journald writes a field as an array of bytes when it is not valid UTF-8;
// such fields are left empty.
type journalEntry struct {
	Cursor     string          `json:"__CURSOR"`
	Realtime   string          `json:"__REALTIME_TIMESTAMP"`
	Hostname   json.RawMessage `json:"_HOSTNAME"`
	Identifier json.RawMessage `json:"SYSLOG_IDENTIFIER"`
	Comm       json.RawMessage `json:"_COMM"`
	Message    json.RawMessage `json:"MESSAGE"`
}

// parseJournal parses one `journalctl -o json` line. A time that cannot
// be put in a report is left zero, as a missing one is.
func parseJournal(line []byte) (record, string, error) {
	var e journalEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return record{}, "", fmt.Errorf("journal entry is not JSON: %w", err)
	}
	if e.Cursor == "" {
		return record{}, "", fmt.Errorf("journal entry has no __CURSOR")
	}
	r := record{host: jsonText(e.Hostname), provider: jsonText(e.Identifier), message: jsonText(e.Message)}
	if r.provider == "" {
		r.provider = jsonText(e.Comm)
	}
	if us, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil && encodable(time.UnixMicro(us)) {
		r.time = time.UnixMicro(us).UTC()
	}
	return r, e.Cursor, nil
}

func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// toEvent turns a record into an event, or false when the line is not a
// login or sudo record. computer stands in for a record without host.
func toEvent(r record, id uint64, computer string) (protocol.Event, bool) {
	ev := protocol.Event{Channel: Channel, RecordID: id, Time: r.time, Level: levelInfo, Fields: map[string]string{}}
	msg := r.message
	provider := baseProvider(r.provider)
	switch {
	case provider == "sshd" || provider == "":
		if !sshEvent(&ev, msg) {
			return protocol.Event{}, false
		}
		provider = "sshd"
	case provider == "sudo":
		if !sudoEvent(&ev, msg) {
			return protocol.Event{}, false
		}
	case provider == "login":
		if !loginEvent(&ev, msg) {
			return protocol.Event{}, false
		}
	default:
		return protocol.Event{}, false
	}
	ev.Provider = provider
	ev.Message = clean(msg, maxMessage)
	host := r.host
	if host == "" {
		host = computer
	}
	ev.Fields["computer"] = host
	for k, v := range ev.Fields {
		ev.Fields[k] = clean(v, maxField)
	}
	return ev, true
}

// baseProvider folds OpenSSH 9.8's per-session processes into "sshd".
func baseProvider(p string) string {
	if strings.HasPrefix(p, "sshd") {
		return "sshd"
	}
	return p
}

func sshEvent(ev *protocol.Event, msg string) bool {
	if m := matchAccepted(msg); m != nil {
		ev.EventID = EventLoginAccepted
		ev.Fields["method"], ev.Fields["user"], ev.Fields["source_ip"], ev.Fields["source_port"] = m[1], m[2], m[3], m[4]
		return true
	}
	if m := matchFailed(msg); m != nil {
		ev.EventID, ev.Level = EventLoginFailed, levelWarning
		ev.Fields["method"], ev.Fields["user"], ev.Fields["source_ip"], ev.Fields["source_port"] = m[1], m[2], m[3], m[4]
		return true
	}
	if m := matchInvalid(msg); m != nil {
		ev.EventID, ev.Level = EventLoginFailed, levelWarning
		ev.Fields["method"], ev.Fields["user"], ev.Fields["source_ip"], ev.Fields["source_port"] = "invalid_user", m[1], m[2], m[3]
		return true
	}
	return false
}

// sudoEvent reads "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ;
// COMMAND=/usr/bin/id", with a failure reason as the first part when sudo
// refused.
func sudoEvent(ev *protocol.Event, msg string) bool {
	m := matchSudo(msg)
	if m == nil {
		return false
	}
	ev.Fields["user"] = m[1]
	hasCommand := false
	for _, part := range strings.Split(m[2], " ; ") {
		k, v, ok := strings.Cut(part, "=")
		switch {
		case ok && k == "TTY":
			ev.Fields["tty"] = v
		case ok && k == "USER":
			ev.Fields["target_user"] = v
		case ok && k == "PWD":
			ev.Fields["cwd"] = v
		case ok && k == "COMMAND":
			ev.Fields["command"] = v
			hasCommand = true
		}
	}
	for _, f := range sudoFailures {
		if strings.Contains(m[2], f) {
			ev.EventID, ev.Level = EventSudoFailed, levelWarning
			return true
		}
	}
	if !hasCommand {
		return false
	}
	ev.EventID = EventSudoCommand
	return true
}

func loginEvent(ev *protocol.Event, msg string) bool {
	if m := matchLoginFail(msg); m != nil {
		ev.EventID, ev.Level = EventLoginFailed, levelWarning
		ev.Fields["tty"], ev.Fields["user"], ev.Fields["method"] = m[1], m[2], "login"
		return true
	}
	if m := matchLoginOK(msg); m != nil {
		ev.EventID = EventLoginAccepted
		ev.Fields["tty"], ev.Fields["method"] = m[1], "login"
		ev.Fields["user"] = m[2]
		if strings.HasPrefix(msg, "ROOT") {
			ev.Fields["user"] = "root"
		}
		return true
	}
	return false
}

// clean makes hostile text safe to store and show: invalid UTF-8 becomes
// U+FFFD, control characters become spaces, and it is cut to max bytes.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// recordID is a stable 64-bit id for text naming a record's position.
func recordID(position string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(position))
	return h.Sum64()
}

// truncatedEvent says that more records wait than one round returns.
func truncatedEvent(now time.Time, max int, computer string) protocol.Event {
	return protocol.Event{
		Channel: Channel, RecordID: recordID("truncated:" + now.Format(time.RFC3339Nano)), Time: now.UTC(),
		Level: levelWarning, Provider: "cscs-agent", EventID: EventTruncated,
		Message: fmt.Sprintf("more than %d auth records since the last round; the rest follow next round", max),
		Fields:  map[string]string{"computer": computer, "limit": strconv.Itoa(max)},
	}
}
