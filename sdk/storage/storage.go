// Package storage is the contract between the CSCS core and a storage
// backend: the core hands over one round's results as a Batch, and the
// backend writes it idempotently.
//
// This package is part of the public SDK and imports nothing of CSCS.
package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
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

	// Alerts are the alert states that changed since the last batch (a
	// rule started or stopped firing, a mail went out, a new value was
	// seen). The core keeps the authoritative copy; a storage keeps the
	// newest state per host and rule (by UpdatedAt) for the consuming
	// application.
	Alerts []AlertState
	// Notifications are the outbox records that changed since the last
	// batch (queued, attempted, sent, failed). A storage keeps the newest
	// record per ID (by UpdatedAt).
	Notifications []NotificationRecord
}

// AlertState is the state of one alert rule on one host. A storage keeps
// one row per (HostIP, HostPort, RuleID) and replaces it only with a state
// whose UpdatedAt is not older than the stored one, so a replayed batch
// never moves an alert back.
type AlertState struct {
	HostIP   string
	HostPort int
	// RuleID names the rule on every host, stable across rounds
	// ("memory>90").
	RuleID string
	// Type is the alert type as configured ("memory", "cpu").
	Type string
	// Metric is the metric the rule watches ("memory.used_percent").
	Metric string
	// Condition is the rule as the operator wrote it ("> 90%").
	Condition string
	// Firing is true while the rule's condition holds.
	Firing bool
	// Since is when the current state (firing or not) began; zero if the
	// rule never changed state.
	Since time.Time
	// LastNotified is when a mail about this rule last went out; zero if
	// never.
	LastNotified time.Time
	// LastValue is the metric value last evaluated, in the metric's unit;
	// NaN when there was none (stored as NULL).
	LastValue float64
	// UpdatedAt is when the core last changed this state; it orders
	// writes of the same host and rule.
	UpdatedAt time.Time
}

// Kinds of notification (NotificationRecord.Kind).
const (
	NotificationAlert    = "alert"
	NotificationEventLog = "eventlog"
	NotificationTest     = "test"
)

// NotificationKinds lists every notification kind in a stable order.
var NotificationKinds = []string{NotificationAlert, NotificationEventLog, NotificationTest}

// Statuses of a notification in the outbox (NotificationRecord.Status).
const (
	// NotificationPending waits for its first or next attempt.
	NotificationPending = "pending"
	// NotificationSending is being sent.
	NotificationSending = "sending"
	// NotificationSent was accepted by the notifier.
	NotificationSent = "sent"
	// NotificationFailed was refused for good.
	NotificationFailed = "failed"
)

// NotificationStatuses lists every notification status in a stable order.
var NotificationStatuses = []string{NotificationPending, NotificationSending, NotificationSent, NotificationFailed}

// NotificationRecord is one notification of the core's outbox, without its
// body (which the core keeps). A storage keeps one row per ID and
// replaces it only with a record whose UpdatedAt is not older than the
// stored one.
type NotificationRecord struct {
	// ID is unique per notification.
	ID string
	// Kind is one of NotificationKinds.
	Kind string
	// HostIP and HostPort name the host the notification is about; empty
	// and 0 when it is about no single host.
	HostIP   string
	HostPort int
	// Recipients are the addresses the notification goes to.
	Recipients []string
	Subject    string
	// Status is one of NotificationStatuses.
	Status string
	// Attempts is how many sends were tried so far.
	Attempts int
	// LastError is the last failed attempt's reason; empty if none.
	LastError string
	// CreatedAt is when the notification was queued.
	CreatedAt time.Time
	// SentAt is when the notifier accepted it; zero if not sent.
	SentAt time.Time
	// UpdatedAt is when the core last changed this record; it orders
	// writes of the same ID.
	UpdatedAt time.Time
	// Channel is how it is delivered: DefaultChannel (the core's mail
	// settings) or the name of a notifier instance of the core's HCL
	// overlay. A notification routed to several channels is one record
	// per channel, each with its own ID. Empty means DefaultChannel.
	Channel string
}

// DefaultChannel is the channel of notifications delivered with the
// core's own mail settings (email_config.json).
const DefaultChannel = "email"

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
	// Events are the log records the host's event sources (the Windows
	// Security log, the Linux authentication log) yielded this round. A
	// storage keeps one row per (HostIP, HostPort, Channel, RecordID):
	// an event seen again, in a replayed round or through an overlapping
	// cursor, is stored once.
	Events []Event
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
	// Labels tell apart the samples of one metric in a collection: a file
	// system's "mount", "device" and "fstype", an interface's "interface".
	// Nil for a metric with one value per host. A collection holds at
	// most one sample per metric and labels (LabelsText compares them).
	// The core sends labels only to a storage whose Description says it
	// keeps them; to any other it folds them into Metric (see
	// FoldLabels).
	Labels map[string]string
}

// Event is one log record of a host. Channel and RecordID identify it on
// its host. The fields mirror the agent's event records and
// sdk/source.Event, plus Computer. Text travels to a storage plugin as
// UTF-8: an invalid byte sequence arrives as U+FFFD.
type Event struct {
	// Channel names the log ("Security", "auth").
	Channel string
	// RecordID is the record's number in its channel (the Windows
	// EventRecordID); stable for the life of the record.
	RecordID uint64
	// Time is when the host logged the record.
	Time time.Time
	// Level is the severity as the log names it ("Information",
	// "Warning", "Error"); empty when the log has none.
	Level string
	// Provider is the component that logged the record
	// ("Microsoft-Windows-Security-Auditing", "sshd").
	Provider string
	// EventID is the provider's event number (4625: failed logon); 0 when
	// the log has none.
	EventID int
	// Computer is the host name the record carries; empty when the log
	// has none.
	Computer string
	// Message is the rendered text of the record.
	Message string
	// Fields are the record's named data ("TargetUserName": "admin").
	Fields map[string]string
}

// Description is what a storage plugin says about itself.
type Description struct {
	// Name is the plugin's name, lower_snake_case ("sqlite").
	Name string
	// Version is the plugin's own version (semver recommended).
	Version string
	// Config declares the keys of the JSON object Open receives, so that
	// the core can check an operator's configuration block before Open
	// (see package schema). The zero Schema declares none.
	Config schema.Schema
	// Labels says the storage keeps Sample.Labels (its table of samples
	// has a key on metric and labels). A storage that leaves it false
	// receives labelled samples with their labels folded into the metric
	// name (`disk.used_percent{mount="/var"}`), so that it never sees
	// two samples of one metric in a collection.
	Labels bool
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
	// WriteBatch stores one round: its collections and the alert states
	// and notification records that changed. Writing the same batch again
	// must not duplicate anything, and an alert state or notification
	// record older (by UpdatedAt) than the one stored must not replace it.
	WriteBatch(ctx context.Context, b *Batch) error
	// Close releases the backend. It is safe to call more than once and
	// without Open.
	Close(ctx context.Context) error
}

// Maintenance calls. A storage may implement Migrator, Pruner and
// PrunePreviewer so that `cscs db init`, `cscs db prune` and `cscs db
// prune --dry-run` can manage its backend. The core makes
// these calls outside rounds, on a plugin it has not opened, with the
// configuration Open would receive. A plugin that does not implement one
// (or was built with an SDK older than them) answers ErrUnsupported.

// ErrUnsupported is returned for a maintenance call the plugin does not
// implement.
var ErrUnsupported = errors.New("not implemented by this storage plugin")

// Migrator is a Storage whose backend `cscs db init` creates or upgrades.
type Migrator interface {
	// Migrate creates or upgrades the schema of the backend config names
	// and reports the version in place; idempotent.
	Migrate(ctx context.Context, config []byte) (Migration, error)
}

// Migration is what Migrate left in place.
type Migration struct {
	// Target names the backend without secrets ("cscs.db",
	// "postgres://db.example:5432/cscs").
	Target string
	// SchemaVersion is the schema's version after Migrate.
	SchemaVersion int
}

// Pruner is a Storage whose old data `cscs db prune` deletes.
type Pruner interface {
	// Prune deletes from the backend config names what is older than
	// olderThan, and says how many rows of each kind went: the events
	// logged before it; the collections (with their samples) started
	// before it, except each host's latest ok collection; the
	// notification records that are done (sent or failed) and were last
	// updated before it; and the alert states that are not firing and
	// were last updated before it (a firing alert is never deleted). A
	// backend that keeps only some of these deletes those and counts 0
	// for the others. It never creates a backend: one that does not
	// exist, or whose schema is not prepared, is an error saying to run
	// `cscs db init`.
	Prune(ctx context.Context, config []byte, olderThan time.Time) (Pruned, error)
}

// PrunePreviewer is a Pruner that can tell what a Prune would delete
// without deleting it: `cscs db prune --dry-run`. Optional; the core
// never falls back to a real Prune for a storage without it.
type PrunePreviewer interface {
	// PrunePreview counts the rows Prune(ctx, config, olderThan) would
	// delete now, changing nothing. The counts must come from exactly
	// Prune's conditions, so that a Prune right after (with no write in
	// between) deletes as many.
	PrunePreview(ctx context.Context, config []byte, olderThan time.Time) (Pruned, error)
}

// Pruned is what Prune deleted, or what PrunePreview counts.
type Pruned struct {
	// Target names the backend without secrets.
	Target string
	// Collections and Events count the collections (their samples go
	// with them, uncounted) and the events.
	Collections, Events int64
	// Notifications counts the notification records and Alerts the
	// alert states. A plugin built before them reports 0.
	Notifications, Alerts int64
}

// Total is how many rows p counts in all.
func (p Pruned) Total() int64 {
	return p.Collections + p.Events + p.Notifications + p.Alerts
}

// Migrate calls s's Migrate, or returns an error wrapping ErrUnsupported
// when s is not a Migrator.
func Migrate(ctx context.Context, s Storage, config []byte) (Migration, error) {
	m, ok := s.(Migrator)
	if !ok {
		return Migration{}, fmt.Errorf("migrate: %w", ErrUnsupported)
	}
	return m.Migrate(ctx, config)
}

// Prune calls s's Prune, or returns an error wrapping ErrUnsupported when
// s is not a Pruner.
func Prune(ctx context.Context, s Storage, config []byte, olderThan time.Time) (Pruned, error) {
	p, ok := s.(Pruner)
	if !ok {
		return Pruned{}, fmt.Errorf("prune: %w", ErrUnsupported)
	}
	return p.Prune(ctx, config, olderThan)
}

// PrunePreview calls s's PrunePreview, or returns an error wrapping
// ErrUnsupported when s is not a PrunePreviewer. It never calls Prune.
func PrunePreview(ctx context.Context, s Storage, config []byte, olderThan time.Time) (Pruned, error) {
	p, ok := s.(PrunePreviewer)
	if !ok {
		return Pruned{}, fmt.Errorf("prune preview: %w", ErrUnsupported)
	}
	return p.PrunePreview(ctx, config, olderThan)
}
