package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/core/rate"
)

// Counters returns the counters the host reported in its latest round,
// keyed by metric and labels; false when none are kept. The first call
// reads every host's (see snapshot). Counters that cannot be read count
// as none: the round then computes no rate for the host and keeps its
// new counters.
func (d *DB) Counters(ctx context.Context, hostIP string, hostPort int) (map[string]rate.Counter, bool, error) {
	text, ok, err := d.counters.get(d.readCounters(ctx), hostKey{ip: hostIP, port: hostPort})
	if err != nil || !ok {
		return nil, false, err
	}
	var out map[string]rate.Counter
	if json.Unmarshal([]byte(text), &out) != nil {
		return nil, false, nil
	}
	return out, true, nil
}

// readCounters returns a reader of the whole host_counters table.
func (d *DB) readCounters(ctx context.Context) func() (map[hostKey]string, error) {
	return readTable(ctx, d.db, "host counters", `SELECT host_ip, host_port, counters FROM host_counters`,
		func(rows *sql.Rows) (k hostKey, counters string, err error) {
			err = rows.Scan(&k.ip, &k.port, &counters)
			return k, counters, err
		})
}

// SetCounters replaces the counters kept for the host with counters.
func (d *DB) SetCounters(ctx context.Context, hostIP string, hostPort int, counters map[string]rate.Counter) error {
	if err := checkHost(hostIP, hostPort); err != nil {
		return fmt.Errorf("store counters: %w", err)
	}
	b, err := json.Marshal(counters)
	if err != nil {
		return fmt.Errorf("store the counters of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	_, err = d.db.ExecContext(ctx,
		`INSERT INTO host_counters (host_ip, host_port, counters, updated_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port) DO UPDATE SET counters = excluded.counters, updated_at = excluded.updated_at`,
		hostIP, hostPort, string(b), formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store the counters of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	d.counters.put(d.readCounters(ctx), hostKey{ip: hostIP, port: hostPort}, string(b))
	return nil
}
