package state

import (
	"context"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// The state database is the alert evaluator's StateStore. This file is
// the only one that knows core/alert's types.
var _ alert.StateStore = (*DB)(nil)

// Get returns the state of rule ruleID on a host; false when the rule was
// never stored there. A stored NaN LastValue reads back as NaN. For a
// host given to PrefetchAlerts it reads no database.
func (d *DB) Get(ctx context.Context, hostIP string, hostPort int, ruleID string) (alert.State, bool, error) {
	row, ok, err := d.getAlert(ctx, hostIP, hostPort, ruleID)
	if err != nil || !ok {
		return alert.State{}, false, err
	}
	return alert.State{Firing: row.firing, Since: row.since, LastNotified: row.lastNotified, LastValue: row.lastValue, Streak: row.streak}, true, nil
}

// Put replaces the state of rule ruleID on a host.
func (d *DB) Put(ctx context.Context, hostIP string, hostPort int, ruleID string, s alert.State) error {
	row := rowOf(s)
	if err := putAlert(ctx, d.db, hostIP, hostPort, ruleID, row); err != nil {
		return err
	}
	d.alerts.put(HostKey{IP: hostIP, Port: hostPort}, ruleID, row)
	return nil
}

func rowOf(s alert.State) alertRow {
	return alertRow{firing: s.Firing, since: s.Since, lastNotified: s.LastNotified, lastValue: s.LastValue, streak: s.Streak}
}

// Queued is a notification to add to the outbox on a channel ("" for
// DefaultChannel), due at DueAt.
type Queued struct {
	Channel string
	N       notifier.Notification
	DueAt   time.Time
}

// CommitRound adds a round's notifications to the outbox and stores the
// alert states its rules reached and the event cursors its hosts
// returned, in one transaction: a core that stops in between leaves none
// of them, and the next round reads the events and mails again. A
// notification whose id is already queued is left as it is.
func (d *DB) CommitRound(ctx context.Context, queued []Queued, updates []alert.Update, cursors []Cursor) error {
	if len(queued) == 0 && len(updates) == 0 && len(cursors) == 0 {
		return nil
	}
	for _, c := range cursors {
		if err := c.check(); err != nil {
			return err
		}
	}
	err := d.inTx(ctx, func(tx *txn) error {
		for _, q := range queued {
			if _, err := insertNotification(ctx, tx, q.Channel, q.N, q.DueAt); err != nil {
				return err
			}
		}
		for _, u := range updates {
			if err := putAlert(ctx, tx, u.HostIP, u.HostPort, u.RuleID, rowOf(u.State)); err != nil {
				return err
			}
		}
		for _, c := range cursors {
			if err := putCursor(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range cursors {
		d.cursors.put(cursorTable(), cursorKey{c.HostIP, c.HostPort, c.Channel}, c.Cursor)
	}
	for _, u := range updates {
		d.alerts.put(HostKey{IP: u.HostIP, Port: u.HostPort}, u.RuleID, rowOf(u.State))
	}
	return nil
}

// RecentValues returns up to n of the latest values of metric on a host,
// oldest first (every kept value for n < 0). AddValues records them and
// keeps the newest Options.KeepValues per host and metric.
func (d *DB) RecentValues(ctx context.Context, hostIP string, hostPort int, metric string, n int) ([]alert.TimedValue, error) {
	vs, err := d.recentValues(ctx, hostIP, hostPort, metric, n)
	if err != nil {
		return nil, err
	}
	out := make([]alert.TimedValue, len(vs))
	for i, v := range vs {
		out[i] = alert.TimedValue{Time: v.at, Value: v.value}
	}
	return out, nil
}
