// Package storage is the contract between the CSCS core and a storage
// backend: the core hands over one round's results as a Batch, and the
// backend writes it idempotently.
//
// This package is part of the public SDK and imports nothing of CSCS.
package storage

import (
	"context"
	"time"
)

// Status is the outcome of one host in one round.
type Status string

// The statuses a collection can end with. They are stored verbatim in
// collections.status and are part of the database contract.
const (
	StatusOK              Status = "ok"
	StatusUnreachable     Status = "unreachable"
	StatusAuthFailed      Status = "auth_failed"
	StatusHostKeyMismatch Status = "host_key_mismatch"
	StatusHostKeyUnknown  Status = "host_key_unknown"
	StatusTimeout         Status = "timeout"
	StatusAgentError      Status = "agent_error"
	StatusBadReport       Status = "bad_report"
	StatusCancelled       Status = "cancelled"
)

// Statuses lists every Status in a stable order.
var Statuses = []Status{
	StatusOK, StatusUnreachable, StatusAuthFailed, StatusHostKeyMismatch,
	StatusHostKeyUnknown, StatusTimeout, StatusAgentError, StatusBadReport,
	StatusCancelled,
}

// Batch is one round's results.
type Batch struct {
	// RoundID identifies the round; together with a host it makes a
	// collection unique, so writing the same batch twice changes nothing.
	RoundID     string
	StartedAt   time.Time
	FinishedAt  time.Time
	Collections []Collection
}

// Collection is the result for one host in one round.
type Collection struct {
	HostIP   string
	HostPort int
	// Hostname, OS and Arch are as the agent reported them (empty when the
	// host was not reached).
	Hostname     string
	OS           string
	Arch         string
	AgentVersion string

	Status Status
	// Error is a person-readable reason when Status is not ok. It never
	// contains secrets.
	Error string

	StartedAt  time.Time
	FinishedAt time.Time
	Timings    Timings
	// AgentUploaded is true when the agent had to be uploaded this round.
	AgentUploaded bool

	Samples []Sample
}

// Timings are the durations of a collection's phases.
type Timings struct {
	Connect time.Duration
	Detect  time.Duration
	Upload  time.Duration
	Exec    time.Duration
	Total   time.Duration
}

// Sample is one metric value of one host at one time.
type Sample struct {
	Metric string
	Value  float64
	Unit   string
	Time   time.Time
}

// Description is what a storage plugin says about itself.
type Description struct {
	// Name is the plugin's name, lower_snake_case ("sqlite").
	Name string
	// Version is the plugin's own version (semver recommended).
	Version string
}

// Storage is a backend that receives rounds. The core calls Describe, then
// Open once with the operator's configuration, WriteBatch once per round
// (and again for spooled rounds it replays), and Close.
type Storage interface {
	// Describe returns the plugin's name and version; it must work before Open.
	Describe(ctx context.Context) (Description, error)
	// Open connects to the backend with its configuration (a JSON object,
	// plugin-specific) and creates or upgrades its schema; idempotent.
	Open(ctx context.Context, config []byte) error
	// WriteBatch stores one round. Writing the same batch again must not
	// duplicate anything.
	WriteBatch(ctx context.Context, b *Batch) error
	// Close releases the backend. It is safe to call more than once and
	// without Open.
	Close(ctx context.Context) error
}
