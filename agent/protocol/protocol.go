// Package protocol defines the messages exchanged between the CSCS core and
// the agent it runs on a host: the request the core writes to the agent's
// stdin and the report the agent encrypts and writes to its stdout.
//
// The package is imported by both sides, so it depends on the standard
// library only and stays small: every host receives the agent binary.
package protocol

import "time"

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
	// Empty means every module the agent has.
	Modules []string `json:"modules,omitempty"`
	// CPUSampleMillis is the window over which CPU usage is sampled.
	CPUSampleMillis int `json:"cpu_sample_ms,omitempty"`
	// ModuleTimeoutMillis bounds each module's run.
	ModuleTimeoutMillis int `json:"module_timeout_ms,omitempty"`
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
	// Modules holds one entry per module that ran, in request order.
	Modules []ModuleResult `json:"modules"`
}

// ModuleResult is what one module produced. A failing module yields an
// entry with Error set; the rest of the report is still valid.
type ModuleResult struct {
	Name       string   `json:"name"`
	Metrics    []Metric `json:"metrics,omitempty"`
	Error      string   `json:"error,omitempty"`
	DurationMS float64  `json:"duration_ms"`
}

// Metric is one measured value.
type Metric struct {
	// Name is dotted and lower_snake_case, e.g. "memory.used_percent".
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Unit is one of "percent", "bytes", "seconds", "count", "" (ratio).
	Unit string `json:"unit"`
}

// Well-known metric names produced by the built-in modules.
const (
	MetricCPUPercent        = "cpu.percent"
	MetricCPUCount          = "cpu.count"
	MetricMemoryUsedPercent = "memory.used_percent"
	MetricMemoryTotalBytes  = "memory.total_bytes"
	MetricMemoryUsedBytes   = "memory.used_bytes"
	MetricMemoryAvailBytes  = "memory.available_bytes"
	MetricSwapUsedPercent   = "swap.used_percent"
	MetricSwapTotalBytes    = "swap.total_bytes"
	MetricSwapUsedBytes     = "swap.used_bytes"
	MetricUptimeSeconds     = "uptime.seconds"
	MetricLoad1             = "load.1"
	MetricLoad5             = "load.5"
	MetricLoad15            = "load.15"
)

// Exit statuses of the agent process.
const (
	// ExitOK: a report was written to stdout.
	ExitOK = 0
	// ExitBadRequest: the request on stdin could not be read or understood.
	ExitBadRequest = 2
	// ExitEncrypt: the report could not be encrypted or written.
	ExitEncrypt = 3
)
