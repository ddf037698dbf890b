package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// alertRow is the stored state of one alert rule on one host.
type alertRow struct {
	firing       bool
	since        time.Time
	lastNotified time.Time
	lastValue    float64 // NaN is stored as NULL and read back as NaN
}

// timedValue is one stored value of a metric.
type timedValue struct {
	at    time.Time
	value float64
}

func checkHost(hostIP string, hostPort int) error {
	if hostIP == "" {
		return errors.New("no host IP given")
	}
	if hostPort < 0 || hostPort > 65535 {
		return fmt.Errorf("host port %d is outside 0..65535", hostPort)
	}
	return nil
}

// getAlert returns the state of ruleID on the host; false when none is
// stored yet.
func (d *DB) getAlert(ctx context.Context, hostIP string, hostPort int, ruleID string) (alertRow, bool, error) {
	var (
		row                 alertRow
		since, lastNotified sql.NullString
		lastValue           sql.NullFloat64
	)
	err := d.db.QueryRowContext(ctx,
		`SELECT firing, since, last_notified, last_value FROM alert_state
		 WHERE host_ip = ? AND host_port = ? AND rule_id = ?`,
		hostIP, hostPort, ruleID).Scan(&row.firing, &since, &lastNotified, &lastValue)
	if errors.Is(err, sql.ErrNoRows) {
		return alertRow{}, false, nil
	}
	if err != nil {
		return alertRow{}, false, fmt.Errorf("read alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	if row.since, err = parseTime(since); err != nil {
		return alertRow{}, false, fmt.Errorf("alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	if row.lastNotified, err = parseTime(lastNotified); err != nil {
		return alertRow{}, false, fmt.Errorf("alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	row.lastValue = math.NaN()
	if lastValue.Valid {
		row.lastValue = lastValue.Float64
	}
	return row, true, nil
}

// putAlert stores the state of ruleID on the host, replacing what was there.
func (d *DB) putAlert(ctx context.Context, hostIP string, hostPort int, ruleID string, row alertRow) error {
	if err := checkHost(hostIP, hostPort); err != nil {
		return fmt.Errorf("store alert state: %w", err)
	}
	if ruleID == "" {
		return fmt.Errorf("store alert state on %s: no rule id given", hostLabel(hostIP, hostPort))
	}
	var lastValue any
	if !math.IsNaN(row.lastValue) {
		lastValue = row.lastValue
	}
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO alert_state (host_ip, host_port, rule_id, firing, since, last_notified, last_value, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port, rule_id) DO UPDATE SET
		   firing = excluded.firing, since = excluded.since, last_notified = excluded.last_notified,
		   last_value = excluded.last_value, updated_at = excluded.updated_at`,
		hostIP, hostPort, ruleID, row.firing, nullTime(row.since), nullTime(row.lastNotified), lastValue, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	return nil
}

// recentValues returns up to n of the newest values of metric on the
// host, oldest first; every kept value for n < 0. Only the newest
// KeepValues are kept, so n beyond that returns at most KeepValues.
func (d *DB) recentValues(ctx context.Context, hostIP string, hostPort int, metric string, n int) ([]timedValue, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 {
		n = -1 // no LIMIT
	}
	rows, err := d.db.QueryContext(ctx,
		`SELECT at, value FROM recent_values
		 WHERE host_ip = ? AND host_port = ? AND metric = ?
		 ORDER BY at DESC LIMIT ?`,
		hostIP, hostPort, metric, n)
	if err != nil {
		return nil, fmt.Errorf("read recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
	}
	defer rows.Close()
	var out []timedValue
	for rows.Next() {
		var (
			at sql.NullString
			v  timedValue
		)
		if err := rows.Scan(&at, &v.value); err != nil {
			return nil, fmt.Errorf("read recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
		}
		if v.at, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out, nil
}

// AddValues records one round's values of the host's metrics at time at,
// in one transaction, and trims each metric to the newest KeepValues
// values. Writing the same time again replaces the value, so a replayed
// round adds nothing. NaN is no measurement and is not stored.
func (d *DB) AddValues(ctx context.Context, hostIP string, hostPort int, at time.Time, values map[string]float64) error {
	if err := checkHost(hostIP, hostPort); err != nil {
		return fmt.Errorf("store recent values: %w", err)
	}
	if at.IsZero() {
		return fmt.Errorf("store recent values of %s: no time given", hostLabel(hostIP, hostPort))
	}
	if len(values) == 0 {
		return nil
	}
	metrics := make([]string, 0, len(values))
	for m := range values {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	stamp := formatTime(at)
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		// Two statements per metric: prepare them once per host, not per row.
		upsert, err := tx.PrepareContext(ctx,
			`INSERT INTO recent_values (host_ip, host_port, metric, at, value) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (host_ip, host_port, metric, at) DO UPDATE SET value = excluded.value`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		trim, err := tx.PrepareContext(ctx,
			`DELETE FROM recent_values WHERE host_ip = ? AND host_port = ? AND metric = ? AND at NOT IN (
			   SELECT at FROM recent_values WHERE host_ip = ? AND host_port = ? AND metric = ?
			   ORDER BY at DESC LIMIT ?)`)
		if err != nil {
			return err
		}
		defer trim.Close()
		for _, m := range metrics {
			v := values[m]
			if m == "" {
				return errors.New("a metric has no name")
			}
			if math.IsNaN(v) {
				continue
			}
			if _, err := upsert.ExecContext(ctx, hostIP, hostPort, m, stamp, v); err != nil {
				return fmt.Errorf("metric %s: %w", m, err)
			}
			if _, err := trim.ExecContext(ctx, hostIP, hostPort, m, hostIP, hostPort, m, d.keep); err != nil {
				return fmt.Errorf("trim metric %s: %w", m, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store recent values of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	return nil
}
