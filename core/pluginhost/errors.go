package pluginhost

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
)

// The failures Launch and the calls of a launched plugin report, each
// wrapped in an error that names the plugin and says what to do. Test for
// them with errors.Is.
var (
	// ErrBinaryNotFound: the plugin's executable does not exist.
	ErrBinaryNotFound = errors.New("binary not found")
	// ErrChecksumMismatch: the executable's SHA-256 is not the pinned one.
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrUnreadable: the executable could not be read to verify its
	// checksum (it comes with ErrChecksumMismatch).
	ErrUnreadable = errors.New("unreadable")
	// ErrProtocolMismatch: the plugin speaks another plugin protocol
	// version (or transport) than this cscs.
	ErrProtocolMismatch = errors.New("protocol mismatch")
	// ErrNotAPlugin: the executable printed something other than the
	// plugin handshake on its standard output.
	ErrNotAPlugin = errors.New("not a cscs plugin")
	// ErrStartTimeout: the plugin did not complete its handshake in time.
	ErrStartTimeout = errors.New("start timed out")
	// ErrKindNotServed: the binary does not serve the kind asked for.
	ErrKindNotServed = errors.New("kind not served")
	// ErrPluginExited: the plugin process exited (crashed) during start or
	// during a call.
	ErrPluginExited = errors.New("plugin exited")
	// ErrPluginHung: a call got no answer within the call timeout; the
	// plugin was killed.
	ErrPluginHung = errors.New("plugin hung")
)

// maxStderrLine bounds how much of one stderr line an error quotes.
const maxStderrLine = 300

// stderrTail remembers the last line, and the last panic line, a plugin
// wrote to its standard error, for error messages. go-plugin writes every
// stderr line to it.
type stderrTail struct {
	mu      sync.Mutex
	partial []byte
	last    string
	panic   string
}

func (s *stderrTail) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if room := 4*maxStderrLine - len(s.partial); room > 0 {
				s.partial = append(s.partial, p[:min(room, len(p))]...)
			}
			break
		}
		if room := 4*maxStderrLine - len(s.partial); room > 0 {
			s.partial = append(s.partial, p[:min(room, i)]...)
		}
		s.line(string(s.partial))
		s.partial = s.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// line records one complete stderr line.
func (s *stderrTail) line(l string) {
	l = strings.TrimSpace(l)
	if l == "" {
		return
	}
	if strings.HasPrefix(l, "{") {
		l = hclogMessage(l)
	}
	if len(l) > maxStderrLine {
		l = l[:maxStderrLine] + "…"
	}
	s.last = l
	if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
		s.panic = l
	}
}

// panicLine is the plugin's last panic (or fatal error) line, or "".
func (s *stderrTail) panicLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.panic
}

// summary is the most telling stderr line: the panic, else the last one.
func (s *stderrTail) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.panic != "" {
		return s.panic
	}
	return s.last
}

// hclogMessage returns "message: error" for an hclog JSON line, or the
// line itself when it is not one.
func hclogMessage(line string) string {
	var entry map[string]any
	if json.Unmarshal([]byte(line), &entry) != nil {
		return line
	}
	msg, ok := entry["@message"].(string)
	if !ok {
		return line
	}
	if e, ok := entry["error"].(string); ok && e != "" {
		msg += ": " + e
	}
	return msg
}
