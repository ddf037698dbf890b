package state

import (
	"context"

	"github.com/cscs-dev/cscs/core/alert"
)

// The state database is the alert evaluator's StateStore. This file is
// the only one that knows core/alert's types.
var _ alert.StateStore = (*DB)(nil)

// Get returns the state of rule ruleID on a host; false when the rule was
// never stored there. A stored NaN LastValue reads back as NaN.
func (d *DB) Get(ctx context.Context, hostIP string, hostPort int, ruleID string) (alert.State, bool, error) {
	row, ok, err := d.getAlert(ctx, hostIP, hostPort, ruleID)
	if err != nil || !ok {
		return alert.State{}, false, err
	}
	return alert.State{Firing: row.firing, Since: row.since, LastNotified: row.lastNotified, LastValue: row.lastValue, Streak: row.streak}, true, nil
}

// Put replaces the state of rule ruleID on a host.
func (d *DB) Put(ctx context.Context, hostIP string, hostPort int, ruleID string, s alert.State) error {
	return d.putAlert(ctx, hostIP, hostPort, ruleID,
		alertRow{firing: s.Firing, since: s.Since, lastNotified: s.LastNotified, lastValue: s.LastValue, streak: s.Streak})
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
