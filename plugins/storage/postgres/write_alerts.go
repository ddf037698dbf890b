package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// stateRows are a batch's alert states and notification records in lock
// order.
type stateRows struct {
	// hosts are the hosts they name, sorted, each once.
	hosts         []hostKey
	alerts        []alertRow
	notifications []notificationRow
}

// newStateRows puts r's alerts in host and rule order and its
// notifications in id order, so that cores writing the same rows at once
// lock them in one order, and lists the hosts they name.
func newStateRows(r *rows) stateRows {
	st := stateRows{alerts: r.Alerts, notifications: r.Notifications}
	for i := range st.alerts {
		st.hosts = append(st.hosts, st.alerts[i].Host)
	}
	for i := range st.notifications {
		if st.notifications[i].HasHost {
			st.hosts = append(st.hosts, st.notifications[i].Host)
		}
	}
	slices.SortStableFunc(st.alerts, func(a, b alertRow) int {
		if c := a.Host.Compare(b.Host); c != 0 {
			return c
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
	slices.SortStableFunc(st.notifications, func(a, b notificationRow) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.hosts, hostKey.Compare)
	st.hosts = slices.Compact(st.hosts)
	return st
}

// writeState upserts the alerts, then the notifications, each in one
// round trip. hostIDs holds the id of every host st names.
func writeState(ctx context.Context, tx pgx.Tx, st stateRows, hostIDs map[hostKey]int64) error {
	if len(st.alerts) > 0 {
		batch := &pgx.Batch{}
		for _, r := range st.alerts {
			batch.Queue(upsertAlertSQL, hostIDs[r.Host], r.RuleID, r.Type, r.Metric, r.Condition,
				r.Firing, r.Since, r.LastNotified, r.LastValue, r.UpdatedAt)
		}
		if err := execBatch(ctx, tx, batch, func(i int) string {
			return fmt.Sprintf("upsert alert %q on %s", st.alerts[i].RuleID, st.alerts[i].Host)
		}); err != nil {
			return err
		}
	}
	if len(st.notifications) > 0 {
		batch := &pgx.Batch{}
		for _, r := range st.notifications {
			var hostID any
			if r.HasHost {
				hostID = hostIDs[r.Host]
			}
			batch.Queue(upsertNotificationSQL, r.ID, r.Kind, hostID, r.Recipients, r.Subject, r.Status,
				r.Attempts, r.LastError, r.CreatedAt, r.SentAt, r.UpdatedAt, r.Channel)
		}
		if err := execBatch(ctx, tx, batch, func(i int) string {
			return fmt.Sprintf("upsert notification %s (status %q)", st.notifications[i].ID, st.notifications[i].Status)
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
