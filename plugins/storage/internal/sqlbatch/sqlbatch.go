// Package sqlbatch is what the SQL storages share when they write a
// round: a storage.Batch turned into the values of the rows they store,
// cleaned, cut, converted and NULL where docs/schema.md says so. Only
// the instant is the backend's own (SQLite stores text, PostgreSQL a
// timestamptz), so the rows take its type as a parameter. How the rows
// reach the database is the backend's too: SQLite sends them one by one
// through prepared statements, PostgreSQL in batches, COPY and arrays, in
// lock order.
package sqlbatch

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Limits on the text of alerts and notifications. Rule ids and conditions
// come from the operator's configuration and may be expressions; subjects
// carry host-supplied names; errors come from mail servers.
const (
	MaxRuleBytes    = 1 << 10
	MaxSubjectBytes = 1 << 10
)

// Write is a SQL storage's WriteBatch: it refuses an invalid batch before
// anything is written, turns the batch into rows with instant, and hands
// them to write, naming the round in every error.
func Write[T any](ctx context.Context, b *storage.Batch, instant func(time.Time) T, write func(context.Context, *Rows[T]) error) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("refuse batch: %w", err)
	}
	rows, err := New(b, instant)
	if err != nil {
		return fmt.Errorf("write round %q: %w", b.RoundID, err)
	}
	if err := write(ctx, rows); err != nil {
		return fmt.Errorf("write round %q: %w", b.RoundID, err)
	}
	return nil
}

// Millis is t as the databases hold it: UTC, cut to the millisecond.
func Millis(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// HostKey is a host's address.
type HostKey struct {
	IP   string
	Port int
}

func (k HostKey) String() string { return net.JoinHostPort(k.IP, strconv.Itoa(k.Port)) }

// Compare orders hosts by address, then port.
func (k HostKey) Compare(o HostKey) int {
	if c := strings.Compare(k.IP, o.IP); c != 0 {
		return c
	}
	return cmp.Compare(k.Port, o.Port)
}

// Rows are a batch as the values of the rows it writes, in the batch's
// order. T is how the backend stores an instant; a NULL is a nil any.
type Rows[T any] struct {
	RoundID       string
	Collections   []Collection[T]
	Alerts        []Alert[T]
	Notifications []Notification[T]
}

// Collection is a collection with its host's columns, samples and events.
type Collection[T any] struct {
	Host   HostKey
	Status string

	Hostname, OS, Arch, AgentVersion any
	// StartedAt is also the host's first_seen; Seen, the end of the
	// collection, its last_seen.
	StartedAt, Seen T
	// LastOKAt is Seen when the collection is ok, else NULL.
	LastOKAt any

	Error      any
	FinishedAt any
	// Timings are connect, detect, upload, exec and total in (fractional)
	// milliseconds, NULL for a phase that did not run.
	Timings       [5]any
	AgentUploaded bool
	// Samples hold each metric and labels once: a metric repeated with
	// the same labels within one collection keeps its last value, in the
	// position of its first appearance.
	Samples []Sample[T]
	Events  []Event[T]
}

// Sample is a row of samples.
type Sample[T any] struct {
	Metric, Unit string
	// Labels is the sample's labels as storage.LabelsText writes them,
	// "{}" for none.
	Labels string
	Value  float64
	At     T
}

// Event is a row of events.
type Event[T any] struct {
	Channel string
	// RecordID keeps the unsigned record number's 64 bits: numbers from
	// 2^63 up are stored negative (docs/schema.md).
	RecordID                           int64
	At                                 T
	Level, Provider, Computer, Message *string
	EventID                            int64
	Fields                             string
	// Timeless: the source gave no time; At is the collection's end.
	Timeless bool
}

// Alert is a row of alerts.
type Alert[T any] struct {
	Host                           HostKey
	RuleID                         string
	Type, Metric, Condition        any
	Firing                         bool
	Since, LastNotified, LastValue any
	UpdatedAt                      T
}

// Notification is a row of notifications.
type Notification[T any] struct {
	ID, Kind, Status, Channel string
	// Host is the host the notification is about, when HasHost.
	Host                 HostKey
	HasHost              bool
	Recipients           string
	Subject, LastError   any
	Attempts             int
	CreatedAt, UpdatedAt T
	SentAt               any
}

// New turns a batch that Batch.Validate accepted into rows; instant
// converts every time. A zero time falls back as the schema documents:
// a collection's start to the batch's, its end to its start, a sample's
// or an event's time to the end of its collection, and an alert's or a
// notification's update to the batch's end (or start).
func New[T any](b *storage.Batch, instant func(time.Time) T) (*Rows[T], error) {
	c := converter[T]{instant: instant}
	rows := &Rows[T]{RoundID: b.RoundID, Collections: make([]Collection[T], len(b.Collections))}
	for i := range b.Collections {
		r, err := c.collection(b, &b.Collections[i])
		if err != nil {
			return nil, err
		}
		rows.Collections[i] = r
	}
	fallback := firstNonZero(b.FinishedAt, b.StartedAt)
	rows.Alerts = make([]Alert[T], len(b.Alerts))
	for i := range b.Alerts {
		rows.Alerts[i] = c.alert(&b.Alerts[i], fallback)
	}
	rows.Notifications = make([]Notification[T], len(b.Notifications))
	for i := range b.Notifications {
		r, err := c.notification(&b.Notifications[i], fallback)
		if err != nil {
			return nil, err
		}
		rows.Notifications[i] = r
	}
	return rows, nil
}

type converter[T any] struct {
	instant func(time.Time) T
}

// nullTime is NULL for the zero time.
func (c converter[T]) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return c.instant(t)
}

func (c converter[T]) collection(b *storage.Batch, col *storage.Collection) (Collection[T], error) {
	started := firstNonZero(col.StartedAt, b.StartedAt)
	seen := firstNonZero(col.FinishedAt, started)
	r := Collection[T]{
		Host: HostKey{col.HostIP, col.HostPort}, Status: string(col.Status),
		Hostname: nullText(col.Hostname, hosttext.MaxShortBytes), OS: nullText(col.OS, hosttext.MaxShortBytes),
		Arch: nullText(col.Arch, hosttext.MaxShortBytes), AgentVersion: nullText(col.AgentVersion, hosttext.MaxShortBytes),
		StartedAt: c.instant(started), Seen: c.instant(seen),
		Error: nullText(col.Error, hosttext.MaxErrorBytes), FinishedAt: c.nullTime(col.FinishedAt),
		Timings: [5]any{
			nullMillis(col.Timings.Connect), nullMillis(col.Timings.Detect), nullMillis(col.Timings.Upload),
			nullMillis(col.Timings.Exec), nullMillis(col.Timings.Total),
		},
		AgentUploaded: col.AgentUploaded,
	}
	if col.Status == storage.StatusOK {
		r.LastOKAt = r.Seen
	}
	if len(col.Samples) > 0 {
		r.Samples = make([]Sample[T], 0, len(col.Samples))
		index := make(map[string]int, len(col.Samples))
		for _, s := range col.Samples {
			row := Sample[T]{
				Metric: hosttext.Clean(s.Metric, hosttext.MaxShortBytes), Unit: hosttext.Clean(s.Unit, hosttext.MaxShortBytes),
				Labels: storage.LabelsText(s.Labels),
				Value:  s.Value, At: c.instant(firstNonZero(s.Time, seen)),
			}
			key := row.Metric + "\x00" + row.Labels
			if i, ok := index[key]; ok {
				r.Samples[i] = row
				continue
			}
			index[key] = len(r.Samples)
			r.Samples = append(r.Samples, row)
		}
	}
	if len(col.Events) > 0 {
		r.Events = make([]Event[T], len(col.Events))
		for i := range col.Events {
			e, err := c.event(&col.Events[i], seen)
			if err != nil {
				return Collection[T]{}, fmt.Errorf("host %s: event %q/%d: %w", r.Host, col.Events[i].Channel, col.Events[i].RecordID, err)
			}
			r.Events[i] = e
		}
	}
	return r, nil
}

// event turns e into its row; an event without a time takes seen, the end
// of its collection.
func (c converter[T]) event(e *storage.Event, seen time.Time) (Event[T], error) {
	fields, err := hosttext.FieldsJSON(e.Fields)
	if err != nil {
		return Event[T]{}, err
	}
	return Event[T]{
		Channel:  hosttext.Line(e.Channel, hosttext.MaxShortBytes),
		RecordID: int64(e.RecordID),
		At:       c.instant(firstNonZero(e.Time, seen)),
		Level:    nullLine(e.Level, hosttext.MaxShortBytes),
		Provider: nullLine(e.Provider, hosttext.MaxShortBytes),
		EventID:  int64(e.EventID),
		Computer: nullLine(e.Computer, hosttext.MaxShortBytes),
		Message:  nullBlock(e.Message, hosttext.MaxMessageBytes),
		Fields:   fields,
		Timeless: e.Time.IsZero(),
	}, nil
}

func (c converter[T]) alert(a *storage.AlertState, fallback time.Time) Alert[T] {
	return Alert[T]{
		Host: HostKey{a.HostIP, a.HostPort}, RuleID: hosttext.Clean(a.RuleID, MaxRuleBytes),
		Type: nullText(a.Type, hosttext.MaxShortBytes), Metric: nullText(a.Metric, hosttext.MaxShortBytes),
		Condition: nullText(a.Condition, MaxRuleBytes), Firing: a.Firing,
		Since: c.nullTime(a.Since), LastNotified: c.nullTime(a.LastNotified), LastValue: nullValue(a.LastValue),
		UpdatedAt: c.instant(firstNonZero(a.UpdatedAt, fallback)),
	}
}

func (c converter[T]) notification(n *storage.NotificationRecord, fallback time.Time) (Notification[T], error) {
	recipients, err := recipientsJSON(n.Recipients)
	if err != nil {
		return Notification[T]{}, fmt.Errorf("notification %s: %w", n.ID, err)
	}
	updated := firstNonZero(n.UpdatedAt, fallback)
	r := Notification[T]{
		ID: hosttext.Clean(n.ID, hosttext.MaxShortBytes), Kind: n.Kind, Status: n.Status,
		Recipients: recipients, Subject: nullText(n.Subject, MaxSubjectBytes),
		LastError: nullText(n.LastError, hosttext.MaxErrorBytes), Attempts: n.Attempts,
		CreatedAt: c.instant(firstNonZero(n.CreatedAt, updated)), UpdatedAt: c.instant(updated),
		SentAt: c.nullTime(n.SentAt), Channel: hosttext.Channel(n.Channel),
	}
	// A notification names no host without an address, or with port 0.
	if n.HostIP != "" && n.HostPort != 0 {
		r.Host, r.HasHost = HostKey{n.HostIP, n.HostPort}, true
	}
	return r, nil
}

func firstNonZero(times ...time.Time) time.Time {
	for _, t := range times {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// nullMillis is the duration in (fractional) milliseconds, NULL when zero:
// the phase did not run.
func nullMillis(d time.Duration) any {
	if d == 0 {
		return nil
	}
	return float64(d) / float64(time.Millisecond)
}

// nullText is NULL for the empty string, otherwise hosttext.Clean.
func nullText(s string, limit int) any {
	if s == "" {
		return nil
	}
	return hosttext.Clean(s, limit)
}

// nullLine is NULL for the empty string, otherwise hosttext.Line.
func nullLine(s string, limit int) *string {
	if s == "" {
		return nil
	}
	c := hosttext.Line(s, limit)
	return &c
}

// nullBlock is NULL for the empty string, otherwise hosttext.Block.
func nullBlock(s string, limit int) *string {
	if s == "" {
		return nil
	}
	c := hosttext.Block(s, limit)
	return &c
}

// nullValue is NULL for NaN (no value).
func nullValue(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// recipientsJSON is the recipients as a JSON array of cleaned strings,
// "[]" for none, with < > & left as they are.
func recipientsJSON(to []string) (string, error) {
	clean := make([]string, len(to))
	for i, r := range to {
		clean[i] = hosttext.Clean(r, hosttext.MaxShortBytes)
	}
	s, err := hosttext.JSON(clean)
	if err != nil {
		return "", fmt.Errorf("encode recipients: %w", err)
	}
	return s, nil
}
