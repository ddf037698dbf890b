// Package authlog is the agent's module reading the logins (successful and
// failed) and sudo use of a Linux host, incrementally, from journald when
// it runs and from /var/log/auth.log or /var/log/secure otherwise.
//
// Events are on channel "auth", with these event ids: 1 login accepted,
// 2 login failed, 3 sudo ran a command, 4 sudo refused, 9 more records
// were waiting than one round returns (they follow next round). Fields:
// user, source_ip, source_port, method, tty, target_user, cwd, command,
// computer. RecordID is a hash of journald's __CURSOR, or of the log
// file's inode and the line's byte offset.
//
// The login records of the collector's own SSH connection, the one the
// agent runs in (its client address, from SSH_CONNECTION), are left out,
// as are those of the last round's connection (kept in the cursor): a
// round does not report itself. Metric authlog.own_session_lines counts
// them.
//
// Settings (Request.ModuleConfig["authlog"]), all optional:
//
//	{"file": "/path/to/log", "max_events": 500, "first_bytes": 65536}
//
// Without journald and without either file the module yields nothing and
// no error. file reads that log file instead of the system's auth log (journald is
// then not used); max_events caps the events of one round; first_bytes is
// how much of a file's end the first round reads.
package authlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module's name.
const Name = "authlog"

// Bounds of Settings.
const (
	// DefaultMaxEvents is the events one round returns at most.
	DefaultMaxEvents = 500
	// MaxMaxEvents is the largest max_events accepted.
	MaxMaxEvents = 5000
	// MaxFirstBytes is the largest first_bytes accepted.
	MaxFirstBytes = 8 << 20
)

// journalDir exists while journald runs.
const journalDir = "/run/systemd/journal"

// Settings are the module's settings.
type Settings struct {
	File       string `json:"file,omitempty"`
	MaxEvents  int    `json:"max_events,omitempty"`
	FirstBytes int64  `json:"first_bytes,omitempty"`
}

// ParseSettings reads raw (nil means defaults) and fills in defaults.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &s); err != nil {
			return Settings{}, fmt.Errorf("authlog settings are not valid: %w", err)
		}
	}
	switch {
	case s.MaxEvents < 0 || s.MaxEvents > MaxMaxEvents:
		return Settings{}, fmt.Errorf("authlog max_events %d is out of range 1..%d", s.MaxEvents, MaxMaxEvents)
	case s.MaxEvents == 0:
		s.MaxEvents = DefaultMaxEvents
	}
	switch {
	case s.FirstBytes < 0 || s.FirstBytes > MaxFirstBytes:
		return Settings{}, fmt.Errorf("authlog first_bytes %d is out of range 1..%d", s.FirstBytes, MaxFirstBytes)
	case s.FirstBytes == 0:
		s.FirstBytes = DefaultFirstBytes
	}
	if s.File != "" && !filepath.IsAbs(s.File) {
		return Settings{}, fmt.Errorf("authlog file %q is not an absolute path", s.File)
	}
	return s, nil
}

// Module reads the auth log.
type Module struct {
	// getenv reads the environment; nil means os.Getenv.
	getenv func(string) string
}

var _ module.EventModule = Module{}

// New returns the module.
func New() Module { return Module{} }

// Name returns "authlog".
func (Module) Name() string { return Name }

// Collect yields no metrics; the agent calls CollectEvents.
func (Module) Collect(context.Context, module.Config) ([]protocol.Metric, error) { return nil, nil }

// CollectEvents returns the login and sudo records after cursor, less the
// login records of the collector's own SSH sessions (the one the agent
// runs in, named by SSH_CONNECTION, and the last round's, named by the
// cursor), and their count as metric authlog.own_session_lines.
func (m Module) CollectEvents(ctx context.Context, cfg module.Config, cursor string) ([]protocol.Event, []protocol.Metric, string, error) {
	s, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, nil, cursor, err
	}
	c, err := DecodeCursor(cursor)
	if err != nil {
		c = Cursor{} // a cursor this agent cannot read: start over, bounded
	}
	getenv := m.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	current := sessionAddress(getenv(sshConnectionEnv))
	own := newOwnSessions(current, c.Own)
	now := time.Now()
	computer, _ := os.Hostname()

	if s.File == "" {
		if jc, ok := journalAvailable(); ok {
			events, skipped, next, jerr := journalRead{journalctl: jc, cursor: c.Journal, max: s.MaxEvents, now: now,
				computer: computer, own: own}.read(ctx)
			if jerr == nil {
				return events, ownMetric(skipped), Cursor{Journal: next, Own: current}.Encode(), nil
			}
			err = jerr
		}
	}
	path, found := pickFile(s.File)
	if !found {
		// A host without any auth log (a container) has nothing to report;
		// that is not a failure of the round.
		if err != nil {
			return nil, nil, cursor, err
		}
		return nil, ownMetric(0), cursor, nil
	}
	events, skipped, next, ferr := fileRead{path: path, cursor: c, firstBytes: s.FirstBytes, max: s.MaxEvents,
		now: now, loc: time.Local, computer: computer, own: own}.read(ctx)
	if ferr != nil {
		return nil, nil, cursor, errors.Join(err, ferr)
	}
	next.Own = current
	return events, ownMetric(skipped), next.Encode(), nil
}

// ownMetric is the count of the collector's own records left out.
func ownMetric(n int) []protocol.Metric {
	return []protocol.Metric{module.Value(metrics.AuthlogOwnLines, float64(n))}
}

// journalAvailable returns journalctl's path when journald runs.
func journalAvailable() (string, bool) {
	if _, err := os.Stat(journalDir); err != nil {
		return "", false
	}
	p, err := lookPath("journalctl")
	return p, err == nil
}

// pickFile returns the configured file, or the first system auth log that
// exists; false when there is none.
func pickFile(configured string) (string, bool) {
	if configured != "" {
		return configured, true
	}
	for _, p := range defaultFiles() {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return p, true // present, or unreadable: the read says why
		}
	}
	return "", false
}
