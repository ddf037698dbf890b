// Package agentmod is the exec protocol between the CSCS agent and an
// external module (an artifact a source plugin ships): the agent runs the
// module with a Request as JSON on stdin and reads a Result as JSON from its
// stdout. Exit status 0 means the Result is valid; any other status is a
// module error whose text is the first lines of stderr. The module must
// finish within Request.DeadlineMS.
//
// A module can be a Go program using Run, or any script that reads one JSON
// object from stdin and prints one to stdout.
//
// This package is part of the public SDK and imports nothing of CSCS.
package agentmod

// Version is the exec protocol version carried in Request.Version.
const Version = 1

// Request is what the agent writes to a module's stdin.
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

// Result is what a module prints on stdout.
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
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Event is one log record.
type Event struct {
	Channel  string            `json:"channel"`
	RecordID uint64            `json:"record_id"`
	Time     string            `json:"time"` // RFC 3339
	Level    string            `json:"level,omitempty"`
	Provider string            `json:"provider,omitempty"`
	EventID  int               `json:"event_id,omitempty"`
	Message  string            `json:"message,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}
