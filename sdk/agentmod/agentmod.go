// Package agentmod is the exec protocol between the CSCS agent and an
// external module (an artifact a source plugin ships): the agent runs the
// module with a Request as JSON on stdin and reads a Result as JSON from its
// stdout. Exit status 0 means the Result is valid; any other status is a
// module error whose text is the first lines of stderr. The module must
// finish within Request.DeadlineMS, print at most MaxResultBytes, and
// yield only metrics whose names start with its source's name and a dot
// (see Result.Validate). docs/agent-protocol.md describes the protocol
// in full.
//
// A module can be a Go program using Run, or any script that reads one JSON
// object from stdin and prints one to stdout.
//
// This package is part of the public SDK and imports nothing of CSCS
// beyond the SDK's own internal helpers.
package agentmod

import labelset "github.com/cscs-dev/cscs/sdk/internal/labels"

// Version is the exec protocol version carried in Request.Version.
const Version = 1

// Limits the agent enforces on a module.
const (
	// MaxResultBytes caps stdout: a module printing more is killed and
	// its result discarded.
	MaxResultBytes = 4 << 20
	// MaxStderrBytes is how much of stderr the agent keeps; the rest is
	// read and dropped.
	MaxStderrBytes = 64 << 10
	// MaxMetricName is the longest metric name, source prefix included.
	MaxMetricName = 64
	// MaxSourceName is the longest source name.
	MaxSourceName = 32
	// MaxCursorBytes caps Result.Cursor.
	MaxCursorBytes = 64 << 10
)

// Request is what the agent writes to a module's stdin. A module ignores
// fields it does not know, so the agent may add optional ones within a
// Version.
type Request struct {
	Version int `json:"version"`
	// Source is the name of the source the module belongs to.
	Source string `json:"source"`
	// DeadlineMS is the time the module has, in milliseconds.
	DeadlineMS int `json:"deadline_ms"`
	// Config is the source's module configuration (a JSON object or null).
	Config map[string]any `json:"config,omitempty"`
	// Cursor is opaque state the module returned last round (event sources).
	Cursor string `json:"cursor,omitempty"`
}

// Result is what a module prints on stdout: one JSON object. The agent
// refuses fields Request.Version does not define, so a misspelt field is
// an error rather than a silently missing value.
type Result struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Events  []Event  `json:"events,omitempty"`
	// Cursor is stored by the core and sent back next round.
	Cursor string `json:"cursor,omitempty"`
	// Raw is free-form output for a source that decodes it (Decoder).
	Raw string `json:"raw,omitempty"`
}

// Metric is one value.
type Metric struct {
	// Name is the source name, a dot, and lower_snake_case words joined
	// by dots ("users.logged_in"); at most MaxMetricName bytes.
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Unit is "percent", "bytes", "seconds", "count", "" (a ratio),
	// "bytes_per_second" or "per_second".
	Unit string `json:"unit"`
	// Labels tell apart several values of one metric on the host, one
	// per file system or queue: {"queue": "outgoing"}. At most MaxLabels,
	// names lower_snake_case, values UTF-8 of at most MaxLabelValueBytes;
	// one value per metric and labels. Declare the label names in the
	// source's MetricInfo.Labels.
	Labels map[string]string `json:"labels,omitempty"`
}

// Bounds of a metric's labels.
const (
	MaxLabels          = labelset.Max
	MaxLabelValueBytes = labelset.MaxValueBytes
)

// Event is one log record.
type Event struct {
	// Channel names the log ("Security", "auth"); required.
	Channel  string            `json:"channel"`
	RecordID uint64            `json:"record_id"`
	Time     string            `json:"time"` // RFC 3339, required
	Level    string            `json:"level,omitempty"`
	Provider string            `json:"provider,omitempty"`
	EventID  int               `json:"event_id,omitempty"`
	Message  string            `json:"message,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}
