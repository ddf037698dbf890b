package state

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"time"
)

// The reads of this file serve status pages: they change nothing.

// FiringAlert is an alert rule that fires on a host.
type FiringAlert struct {
	HostIP   string
	HostPort int
	RuleID   string
	// Since is when it started firing (zero when unknown).
	Since time.Time
	// LastValue is the value that last decided it (NaN for none).
	LastValue float64
}

// FiringAlerts returns every alert rule firing on any host, by host and
// rule.
func (d *DB) FiringAlerts(ctx context.Context) ([]FiringAlert, error) {
	out, err := d.firingAlerts(ctx, `WHERE firing = 1`)
	if err != nil {
		return nil, fmt.Errorf("list firing alerts: %w", err)
	}
	return out, nil
}

// HostFiringAlerts returns the alert rules firing on one host, by rule.
func (d *DB) HostFiringAlerts(ctx context.Context, hostIP string, hostPort int) ([]FiringAlert, error) {
	out, err := d.firingAlerts(ctx, `WHERE firing = 1 AND host_ip = ? AND host_port = ?`, hostIP, hostPort)
	if err != nil {
		return nil, fmt.Errorf("list firing alerts of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	return out, nil
}

func (d *DB) firingAlerts(ctx context.Context, where string, args ...any) ([]FiringAlert, error) {
	var out []FiringAlert
	err := eachRow(ctx, d.db, func(rows *sql.Rows) error {
		var (
			a         FiringAlert
			since     sql.NullString
			lastValue sql.NullFloat64
			err       error
		)
		if err := rows.Scan(&a.HostIP, &a.HostPort, &a.RuleID, &since, &lastValue); err != nil {
			return err
		}
		if a.Since, err = parseTime(since); err != nil {
			return err
		}
		a.LastValue = math.NaN()
		if lastValue.Valid {
			a.LastValue = lastValue.Float64
		}
		out = append(out, a)
		return nil
	}, `SELECT host_ip, host_port, rule_id, since, last_value FROM alert_state `+where+
		` ORDER BY host_ip, host_port, rule_id`, args...)
	return out, err
}

// Point is one stored value of a metric.
type Point struct {
	At    time.Time
	Value float64
}

// MetricValues are the recent values of one metric, oldest first.
type MetricValues struct {
	Metric string
	Points []Point
}

// HostRecentValues returns every recent value kept for a host (the newest
// Options.KeepValues per metric), one entry per metric sorted by name.
func (d *DB) HostRecentValues(ctx context.Context, hostIP string, hostPort int) ([]MetricValues, error) {
	byMetric := map[string][]Point{}
	err := eachRow(ctx, d.db, func(rows *sql.Rows) error {
		var (
			metric string
			at     sql.NullString
			p      Point
			err    error
		)
		if err := rows.Scan(&metric, &at, &p.Value); err != nil {
			return err
		}
		if p.At, err = parseTime(at); err != nil {
			return err
		}
		byMetric[metric] = append(byMetric[metric], p)
		return nil
	}, `SELECT metric, at, value FROM recent_values WHERE host_ip = ? AND host_port = ? ORDER BY metric, at`, hostIP, hostPort)
	if err != nil {
		return nil, fmt.Errorf("read recent values of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	out := make([]MetricValues, 0, len(byMetric))
	for m, ps := range byMetric {
		// The newest KeepValues: the table may hold a few older ones
		// (see trimSlack).
		out = append(out, MetricValues{Metric: m, Points: ps[max(0, len(ps)-d.keep):]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out, nil
}

// HostNotifications returns up to limit outbox rows of kind ("alert",
// "eventlog", "test"; "" for every kind) about a host, newest first.
func (d *DB) HostNotifications(ctx context.Context, hostIP string, hostPort int, kind string, limit int) ([]Notification, error) {
	var out []Notification
	err := eachRow(ctx, d.db, func(rows *sql.Rows) error {
		n, err := scanNotification(rows)
		if err != nil {
			return err
		}
		out = append(out, n)
		return nil
	}, selectNotification+` WHERE host_ip = ? AND host_port = ? AND (? = '' OR kind = ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`, hostIP, hostPort, kind, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("list notifications of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	return out, nil
}
