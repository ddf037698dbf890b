package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
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
	maxRuleBytes    = 1 << 10
	maxSubjectBytes = 1 << 10
)

// ensureHostSQL adds a host that only an alert or a notification names,
// with no other column set; a known host is left as it is.
const ensureHostSQL = `INSERT INTO hosts (ip, port) VALUES (?1, ?2) ON CONFLICT (ip, port) DO NOTHING`

// upsertAlertSQL stores the state of a rule on a host unless the stored
// state is newer: a replayed batch never moves an alert back.
const upsertAlertSQL = `
INSERT INTO alerts (host_id, rule_id, type, metric, condition, firing, since, last_notified, last_value, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
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
// one is newer.
const upsertNotificationSQL = `
INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at, channel)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
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

// stateWriter writes a batch's alert states and notification records in
// the batch's transaction.
type stateWriter struct {
	ensureHost, hostID        *sql.Stmt
	upsertAlert, upsertNotify *sql.Stmt
	hostIDs                   map[hostKey]int64
	// fallbackTime stands in for a zero UpdatedAt: the batch's time.
	fallbackTime time.Time
}

// hostKey is a host's address.
type hostKey struct {
	ip   string
	port int
}

func (k hostKey) String() string { return net.JoinHostPort(k.ip, strconv.Itoa(k.port)) }

// writeState writes b's alerts and notifications in tx; hostID is the
// prepared host id lookup of the batch.
func writeState(ctx context.Context, tx *sql.Tx, hostID *sql.Stmt, b *storage.Batch) error {
	if len(b.Alerts) == 0 && len(b.Notifications) == 0 {
		return nil
	}
	sw := &stateWriter{hostID: hostID, hostIDs: map[hostKey]int64{}, fallbackTime: firstNonZero(b.FinishedAt, b.StartedAt)}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
		what  string
	}{
		{&sw.ensureHost, ensureHostSQL, "host insert"},
		{&sw.upsertAlert, upsertAlertSQL, "alert upsert"},
		{&sw.upsertNotify, upsertNotificationSQL, "notification upsert"},
	} {
		stmt, err := tx.PrepareContext(ctx, p.query)
		if err != nil {
			sw.close()
			return fmt.Errorf("prepare %s: %w", p.what, err)
		}
		*p.stmt = stmt
	}
	defer sw.close()
	for i := range b.Alerts {
		if err := sw.writeAlert(ctx, &b.Alerts[i]); err != nil {
			return err
		}
	}
	for i := range b.Notifications {
		if err := sw.writeNotification(ctx, &b.Notifications[i]); err != nil {
			return err
		}
	}
	return nil
}

func (sw *stateWriter) close() {
	for _, s := range []*sql.Stmt{sw.ensureHost, sw.upsertAlert, sw.upsertNotify} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// host returns the id of the host, adding a bare hosts row when the host
// is not known yet (an alert or a retried notification of a host that is
// not in this round).
func (sw *stateWriter) host(ctx context.Context, k hostKey) (int64, error) {
	if id, ok := sw.hostIDs[k]; ok {
		return id, nil
	}
	if _, err := sw.ensureHost.ExecContext(ctx, k.ip, k.port); err != nil {
		return 0, fmt.Errorf("add host %s: %w", k, err)
	}
	var id int64
	if err := sw.hostID.QueryRowContext(ctx, k.ip, k.port).Scan(&id); err != nil {
		return 0, fmt.Errorf("read id of host %s: %w", k, err)
	}
	sw.hostIDs[k] = id
	return id, nil
}

func (sw *stateWriter) writeAlert(ctx context.Context, a *storage.AlertState) error {
	k := hostKey{a.HostIP, a.HostPort}
	hostID, err := sw.host(ctx, k)
	if err != nil {
		return fmt.Errorf("alert %q on %s: %w", a.RuleID, k, err)
	}
	if _, err := sw.upsertAlert.ExecContext(ctx,
		hostID, hosttext.Clean(a.RuleID, maxRuleBytes),
		nullText(a.Type, hosttext.MaxShortBytes), nullText(a.Metric, hosttext.MaxShortBytes), nullText(a.Condition, maxRuleBytes),
		a.Firing, nullTime(a.Since), nullTime(a.LastNotified), nullValue(a.LastValue),
		formatTime(firstNonZero(a.UpdatedAt, sw.fallbackTime)),
	); err != nil {
		return fmt.Errorf("upsert alert %q on %s: %w", a.RuleID, k, err)
	}
	return nil
}

func (sw *stateWriter) writeNotification(ctx context.Context, n *storage.NotificationRecord) error {
	var hostID any
	if k, ok := notificationHost(n); ok {
		id, err := sw.host(ctx, k)
		if err != nil {
			return fmt.Errorf("notification %s: %w", n.ID, err)
		}
		hostID = id
	}
	recipients, err := recipientsJSON(n.Recipients)
	if err != nil {
		return fmt.Errorf("notification %s: %w", n.ID, err)
	}
	updated := firstNonZero(n.UpdatedAt, sw.fallbackTime)
	if _, err := sw.upsertNotify.ExecContext(ctx,
		hosttext.Clean(n.ID, hosttext.MaxShortBytes), n.Kind, hostID, recipients,
		nullText(n.Subject, maxSubjectBytes), n.Status, n.Attempts, nullText(n.LastError, hosttext.MaxErrorBytes),
		formatTime(firstNonZero(n.CreatedAt, updated)), nullTime(n.SentAt), formatTime(updated), hosttext.Channel(n.Channel),
	); err != nil {
		return fmt.Errorf("upsert notification %s (status %q): %w", n.ID, n.Status, err)
	}
	return nil
}

// notificationHost is the host a notification is about; false when it
// names none (no address, or port 0).
func notificationHost(n *storage.NotificationRecord) (hostKey, bool) {
	if n.HostIP == "" || n.HostPort == 0 {
		return hostKey{}, false
	}
	return hostKey{n.HostIP, n.HostPort}, true
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
