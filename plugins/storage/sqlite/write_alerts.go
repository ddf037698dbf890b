package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
)

// stateWriter writes a batch's alert states and notification records in
// the batch's transaction.
type stateWriter struct {
	ensureHost, hostID        *sql.Stmt
	upsertAlert, upsertNotify *sql.Stmt
	hostIDs                   map[sqlbatch.HostKey]int64
}

// writeState writes the alerts and notifications of r in tx; hostID is
// the prepared host id lookup of the batch.
func writeState(ctx context.Context, tx *sql.Tx, hostID *sql.Stmt, r *rows) error {
	if len(r.Alerts) == 0 && len(r.Notifications) == 0 {
		return nil
	}
	sw := &stateWriter{hostID: hostID, hostIDs: map[sqlbatch.HostKey]int64{}}
	statements := []statement{
		{&sw.ensureHost, ensureHostSQL, "host insert"},
		{&sw.upsertAlert, upsertAlertSQL, "alert upsert"},
		{&sw.upsertNotify, upsertNotificationSQL, "notification upsert"},
	}
	if err := prepare(ctx, tx, statements); err != nil {
		return err
	}
	defer closeStatements(statements)
	for i := range r.Alerts {
		if err := sw.writeAlert(ctx, &r.Alerts[i]); err != nil {
			return err
		}
	}
	for i := range r.Notifications {
		if err := sw.writeNotification(ctx, &r.Notifications[i]); err != nil {
			return err
		}
	}
	return nil
}

// host returns the id of the host, adding a bare hosts row when the host
// is not known yet (an alert or a retried notification of a host that is
// not in this round).
func (sw *stateWriter) host(ctx context.Context, k sqlbatch.HostKey) (int64, error) {
	if id, ok := sw.hostIDs[k]; ok {
		return id, nil
	}
	if _, err := sw.ensureHost.ExecContext(ctx, k.IP, k.Port); err != nil {
		return 0, fmt.Errorf("add host %s: %w", k, err)
	}
	var id int64
	if err := sw.hostID.QueryRowContext(ctx, k.IP, k.Port).Scan(&id); err != nil {
		return 0, fmt.Errorf("read id of host %s: %w", k, err)
	}
	sw.hostIDs[k] = id
	return id, nil
}

func (sw *stateWriter) writeAlert(ctx context.Context, a *sqlbatch.Alert[string]) error {
	hostID, err := sw.host(ctx, a.Host)
	if err != nil {
		return fmt.Errorf("alert %q on %s: %w", a.RuleID, a.Host, err)
	}
	if _, err := sw.upsertAlert.ExecContext(ctx,
		hostID, a.RuleID, a.Type, a.Metric, a.Condition,
		a.Firing, a.Since, a.LastNotified, a.LastValue, a.UpdatedAt,
	); err != nil {
		return fmt.Errorf("upsert alert %q on %s: %w", a.RuleID, a.Host, err)
	}
	return nil
}

func (sw *stateWriter) writeNotification(ctx context.Context, n *sqlbatch.Notification[string]) error {
	var hostID any
	if n.HasHost {
		id, err := sw.host(ctx, n.Host)
		if err != nil {
			return fmt.Errorf("notification %s: %w", n.ID, err)
		}
		hostID = id
	}
	if _, err := sw.upsertNotify.ExecContext(ctx,
		n.ID, n.Kind, hostID, n.Recipients, n.Subject, n.Status, n.Attempts, n.LastError,
		n.CreatedAt, n.SentAt, n.UpdatedAt, n.Channel,
	); err != nil {
		return fmt.Errorf("upsert notification %s (status %q): %w", n.ID, n.Status, err)
	}
	return nil
}
