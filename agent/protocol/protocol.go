// Package protocol defines the messages exchanged between the CSCS core and
// the agent it runs on a host: the request the core writes to the agent's
// stdin and the report the agent encrypts and writes to its stdout.
//
// The package is imported by both sides, so it depends on the standard
// library only and stays small: every host receives the agent binary.
package protocol

import (
	"encoding/json"
	"time"
)

// Version is the wire version of Request and Report. The core refuses a
// report whose Version differs from the one it sent.
const Version = 1

// Request is written by the core, as JSON, to the agent's stdin.
type Request struct {
	// Version is the protocol version the core speaks.
	Version int `json:"version"`
	// Recipient is the core's age X25519 public key ("age1..."). The agent
	// encrypts its report to it.
	Recipient string `json:"recipient"`
	// Nonce is fresh random text per host and round; the agent copies it
	// into the report so a replayed or swapped report is rejected.
	Nonce string `json:"nonce"`
	// Modules names the built-in modules to run ("cpu", "memory", ...).
	// Empty means every built-in module the agent has, unless External is
	// set: then empty means no built-in module.
	Modules []string `json:"modules,omitempty"`
	// CPUSampleMillis is the window over which CPU usage is sampled.
	CPUSampleMillis int `json:"cpu_sample_ms,omitempty"`
	// ModuleTimeoutMillis bounds each module's run.
	ModuleTimeoutMillis int `json:"module_timeout_ms,omitempty"`
	// DeadlineMillis bounds the agent's whole run, counted from when it
	// has read the request: when it passes, the agent stops its modules
	// (external ones with their process groups) and exits with
	// ExitStopped, without a report. The core sends the time it will
	// still wait for the host, less a margin. 0 means no deadline. An
	// agent that predates this field ignores it.
	DeadlineMillis int `json:"deadline_ms,omitempty"`
	// HoldsStdin says that the core keeps the agent's stdin open after
	// the request until the agent's output starts: end of file (or an
	// error) on stdin before that means the core is gone, and the agent
	// stops as at its deadline. Without it, the agent takes end of file
	// after the request for the end of the request alone (the core on a
	// Windows host, whose shell reads stdin to its end before it starts
	// the agent, closes it).
	HoldsStdin bool `json:"holds_stdin,omitempty"`
	// External lists the external modules to run after the built-in ones.
	// An agent that predates this field ignores it and reports no entry
	// for them; the core tells such an agent by the missing entries.
	External []ExternalModule `json:"external,omitempty"`
	// Cursors holds, per built-in module name, the opaque cursor the
	// module returned last round (ModuleResult.Cursor) for this host.
	// Missing means the module reads from its first-round start.
	Cursors map[string]string `json:"cursors,omitempty"`
	// ModuleConfig holds optional settings per built-in module name; each
	// module documents the JSON it accepts. An agent ignores the entries
	// of modules it does not run.
	ModuleConfig map[string]json.RawMessage `json:"module_config,omitempty"`
}

// ExternalModule is an artifact (program or script) of a source plugin
// that the core shipped beside the agent. The agent checks it and runs it
// through the exec protocol of sdk/agentmod.
type ExternalModule struct {
	// Source is the source's name (lower_snake_case). It names the
	// report entry, and every metric the module yields must start with
	// Source + ".". It must differ from the built-in modules' names and
	// the other external modules'; the agent skips a module whose name
	// is already in the report.
	Source string `json:"source"`
	// Path is the artifact's absolute path on the host. It must be a
	// regular file directly in the agent's own directory.
	Path string `json:"path"`
	// SHA256 is the artifact's lowercase hex SHA-256; the agent refuses
	// to run a file with any other content.
	SHA256 string `json:"sha256"`
	// Interpreter, when set, runs the artifact as Interpreter + Path
	// (["/bin/sh"], ["powershell.exe", "-NoProfile", "-File"]); empty
	// means the artifact is executed directly.
	Interpreter []string `json:"interpreter,omitempty"`
	// TimeoutMillis bounds the run; 0 means ModuleTimeoutMillis.
	TimeoutMillis int `json:"timeout_ms,omitempty"`
	// Config is the source's module configuration, passed on unchanged.
	Config map[string]any `json:"config,omitempty"`
	// Cursor is what the module returned last round (event sources).
	Cursor string `json:"cursor,omitempty"`
}

// Report is the agent's answer. It is marshalled to JSON and encrypted
// with age to Request.Recipient before it leaves the host.
type Report struct {
	Version      int       `json:"version"`
	Nonce        string    `json:"nonce"`
	Recipient    string    `json:"recipient"`
	AgentVersion string    `json:"agent_version"`
	Hostname     string    `json:"hostname"`
	OS           string    `json:"os"`
	Arch         string    `json:"arch"`
	CollectedAt  time.Time `json:"collected_at"`
	// BootTime is when the host booted, to the second (within a second
	// from round to round); the core takes a counter (Metric.Counter)
	// whose host booted since the previous round as reset. Zero when the
	// agent could not tell.
	BootTime time.Time `json:"boot_time,omitzero"`
	// Modules holds one entry per module that ran, in request order.
	Modules []ModuleResult `json:"modules"`
}

// ModuleResult is what one module produced. A failing module yields an
// entry with Error set; the rest of the report is still valid.
type ModuleResult struct {
	// Name is the built-in module's name, or an external module's Source.
	Name       string   `json:"name"`
	Metrics    []Metric `json:"metrics,omitempty"`
	Error      string   `json:"error,omitempty"`
	DurationMS float64  `json:"duration_ms"`
	// Events are the log records an event module (built-in or external)
	// yielded.
	Events []Event `json:"events,omitempty"`
	// Cursor is an event module's state for the next round; the core
	// keeps it per host and module and sends it back in
	// ExternalModule.Cursor or Request.Cursors. Empty leaves it unchanged.
	Cursor string `json:"cursor,omitempty"`
	// Raw is an external module's free-form output for a source that
	// decodes it itself.
	Raw string `json:"raw,omitempty"`
}

// ErrorChecksumPrefix starts ModuleResult.Error when an external module's
// artifact is missing or its SHA-256 differs from the requested one: the
// agent did not run it, and the core should upload it again.
const ErrorChecksumPrefix = "artifact checksum mismatch"

// Event is one log record.
type Event struct {
	Channel  string            `json:"channel"`
	RecordID uint64            `json:"record_id"`
	Time     time.Time         `json:"time"`
	Level    string            `json:"level,omitempty"`
	Provider string            `json:"provider,omitempty"`
	EventID  int               `json:"event_id,omitempty"`
	Message  string            `json:"message,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// Metric is one measured value.
type Metric struct {
	// Name is dotted and lower_snake_case, e.g. "memory.used_percent"; the
	// built-in modules' names and units are in sdk/metrics.
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Unit is one of "percent", "bytes", "seconds", "count", "" (ratio),
	// "bytes_per_second" or "per_second" (a counter's rate, see Counter).
	Unit string `json:"unit"`
	// Labels tell apart the metric's samples of one host: a file system's
	// "mount", "device" and "fstype", an interface's "interface". Nil for
	// a metric with one value per host. The built-in metrics' label names
	// are in sdk/metrics.
	Labels map[string]string `json:"labels,omitempty"`
	// Counter marks Value as a counter's running total (bytes received
	// since boot): the core stores the rate per second since the host's
	// previous round under Name, and nothing on the host's first round or
	// after the counter was reset. An agent reports a counter only with
	// Report.BootTime set.
	Counter bool `json:"counter,omitempty"`
}

// Exit statuses of the agent process.
const (
	// ExitOK: a report was written to stdout.
	ExitOK = 0
	// ExitBadRequest: the request on stdin could not be read or understood.
	ExitBadRequest = 2
	// ExitEncrypt: the report could not be encrypted or written.
	ExitEncrypt = 3
	// ExitStopped: the agent stopped before its report was complete,
	// because Request.DeadlineMillis passed, its session ended (end of
	// file on a held stdin, see Request.HoldsStdin) or it received
	// SIGTERM, SIGHUP or SIGINT (on Windows, Ctrl-C). It wrote no report;
	// stderr says which of these happened.
	ExitStopped = 4
)
