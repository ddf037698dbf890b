package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/plugins/storage/internal/hosttext"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Limits on the text of alerts and notifications, the same as the SQLite
// backend's. Rule ids and conditions come from the operator's
// configuration and may be expressions; subjects carry host-supplied
// names; errors come from mail servers.
const (
	maxRuleBytes    = 1 << 10
	maxSubjectBytes = 1 << 10
)

// ensureHostSQL adds a host that only an alert or a notification names,
// with no other column set; a known host is left as it is (no row lock,
// no new row version). hostIDSQL, a statement of its own, then sees the
// row even when another core inserted it meanwhile.
const (
	ensureHostSQL = `INSERT INTO hosts (ip, port) VALUES ($1, $2) ON CONFLICT (ip, port) DO NOTHING`
	hostIDSQL     = `SELECT id FROM hosts WHERE ip = $1 AND port = $2`
)

// upsertAlertSQL stores the state of a rule on a host unless the stored
// state is newer: a replayed batch never moves an alert back.
const upsertAlertSQL = `
INSERT INTO alerts (host_id, rule_id, type, metric, condition, firing, since, last_notified, last_value, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (host_id, rule_id) DO UPDATE SET
    type = excluded.type,
    metric = excluded.metric,
    condition = excluded.condition,
    firing = excluded.firing,
    since = excluded.since,
    last_notified = excluded.last_notified,
    last_value = excluded.last_value,
    updated_at = excluded.updated_at
WHERE excluded.updated_at >= alerts.updated_at`

// upsertNotificationSQL stores a notification record unless the stored
// one is newer. Recipients come as JSON text.
const upsertNotificationSQL = `
INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at, channel)
VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind,
    host_id = excluded.host_id,
    recipients = excluded.recipients,
    subject = excluded.subject,
    status = excluded.status,
    attempts = excluded.attempts,
    last_error = excluded.last_error,
    created_at = excluded.created_at,
    sent_at = excluded.sent_at,
    updated_at = excluded.updated_at,
    channel = excluded.channel
WHERE excluded.updated_at >= notifications.updated_at`

// hostKey is a host's address.
type hostKey struct {
	ip   string
	port int
}

func (k hostKey) String() string { return net.JoinHostPort(k.ip, strconv.Itoa(k.port)) }

// compareHosts orders hosts by address, then port: the lock order of
// every writer.
func compareHosts(a, b hostKey) int {
	if c := strings.Compare(a.ip, b.ip); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

// stateRows are a batch's alert states and notification records as their
// columns' values, in lock order.
type stateRows struct {
	// hosts are the hosts they name, sorted, each once.
	hosts         []hostKey
	alerts        []alertRow
	notifications []notificationRow
}

type alertRow struct {
	host                           hostKey
	ruleID                         string
	typ, metric, condition         any
	firing                         bool
	since, lastNotified, lastValue any
	updatedAt                      time.Time
}

type notificationRow struct {
	id, kind, status     string
	channel              string
	host                 hostKey
	hasHost              bool
	recipients           string
	subject, lastError   any
	attempts             int
	createdAt, updatedAt time.Time
	sentAt               any
}

// newStateRows turns a validated batch's alerts and notifications into
// rows: alerts by host and rule, notifications by id, so that cores
// writing the same rows at once lock them in one order.
func newStateRows(b *storage.Batch) (stateRows, error) {
	var st stateRows
	fallback := firstNonZero(b.FinishedAt, b.StartedAt)
	for i := range b.Alerts {
		a := &b.Alerts[i]
		r := alertRow{
			host: hostKey{a.HostIP, a.HostPort}, ruleID: hosttext.Clean(a.RuleID, maxRuleBytes),
			typ: nullText(a.Type, hosttext.MaxShortBytes), metric: nullText(a.Metric, hosttext.MaxShortBytes),
			condition: nullText(a.Condition, maxRuleBytes), firing: a.Firing,
			since: nullTime(a.Since), lastNotified: nullTime(a.LastNotified), lastValue: nullValue(a.LastValue),
			updatedAt: dbTime(firstNonZero(a.UpdatedAt, fallback)),
		}
		st.alerts = append(st.alerts, r)
		st.hosts = append(st.hosts, r.host)
	}
	for i := range b.Notifications {
		n := &b.Notifications[i]
		recipients, err := recipientsJSON(n.Recipients)
		if err != nil {
			return stateRows{}, fmt.Errorf("notification %s: %w", n.ID, err)
		}
		updated := firstNonZero(n.UpdatedAt, fallback)
		r := notificationRow{
			id: hosttext.Clean(n.ID, hosttext.MaxShortBytes), kind: n.Kind, status: n.Status,
			recipients: recipients, subject: nullText(n.Subject, maxSubjectBytes),
			lastError: nullText(n.LastError, hosttext.MaxErrorBytes), attempts: n.Attempts,
			createdAt: dbTime(firstNonZero(n.CreatedAt, updated)), updatedAt: dbTime(updated),
			sentAt: nullTime(n.SentAt), channel: hosttext.Channel(n.Channel),
		}
		if n.HostIP != "" && n.HostPort != 0 {
			r.host, r.hasHost = hostKey{n.HostIP, n.HostPort}, true
			st.hosts = append(st.hosts, r.host)
		}
		st.notifications = append(st.notifications, r)
	}
	slices.SortStableFunc(st.alerts, func(a, b alertRow) int {
		if c := compareHosts(a.host, b.host); c != 0 {
			return c
		}
		return strings.Compare(a.ruleID, b.ruleID)
	})
	slices.SortStableFunc(st.notifications, func(a, b notificationRow) int { return strings.Compare(a.id, b.id) })
	slices.SortFunc(st.hosts, compareHosts)
	st.hosts = slices.Compact(st.hosts)
	return st, nil
}

// writeState upserts the alerts, then the notifications, each in one
// round trip. hostIDs holds the id of every host st names.
func writeState(ctx context.Context, tx pgx.Tx, st stateRows, hostIDs map[hostKey]int64) error {
	if len(st.alerts) > 0 {
		batch := &pgx.Batch{}
		for _, r := range st.alerts {
			batch.Queue(upsertAlertSQL, hostIDs[r.host], r.ruleID, r.typ, r.metric, r.condition,
				r.firing, r.since, r.lastNotified, r.lastValue, r.updatedAt)
		}
		if err := execBatch(ctx, tx, batch, func(i int) string {
			return fmt.Sprintf("upsert alert %q on %s", st.alerts[i].ruleID, st.alerts[i].host)
		}); err != nil {
			return err
		}
	}
	if len(st.notifications) > 0 {
		batch := &pgx.Batch{}
		for _, r := range st.notifications {
			var hostID any
			if r.hasHost {
				hostID = hostIDs[r.host]
			}
			batch.Queue(upsertNotificationSQL, r.id, r.kind, hostID, r.recipients, r.subject, r.status,
				r.attempts, r.lastError, r.createdAt, r.sentAt, r.updatedAt, r.channel)
		}
		if err := execBatch(ctx, tx, batch, func(i int) string {
			return fmt.Sprintf("upsert notification %s (status %q)", st.notifications[i].id, st.notifications[i].status)
		}); err != nil {
			return err
		}
	}
	return nil
}

// execBatch sends batch and checks every statement's result; what names
// statement i in an error.
func execBatch(ctx context.Context, tx pgx.Tx, batch *pgx.Batch, what func(i int) string) error {
	results := tx.SendBatch(ctx, batch)
	for i := range batch.Len() {
		if _, err := results.Exec(); err != nil {
			_ = results.Close()
			return fmt.Errorf("%s: %w", what(i), err)
		}
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("%s: %w", what(batch.Len()-1), err)
	}
	return nil
}

// recipientsJSON is the recipients as a JSON array of cleaned strings,
// "[]" for none, with < > & left as they are.
func recipientsJSON(to []string) (string, error) {
	clean := make([]string, len(to))
	for i, r := range to {
		clean[i] = hosttext.Clean(r, hosttext.MaxShortBytes)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clean); err != nil {
		return "", fmt.Errorf("encode recipients: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// nullValue is NULL for NaN (no value).
func nullValue(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}
