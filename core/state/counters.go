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
// keyed by metric and labels; false when none are kept. A host given to
// PrefetchHosts is answered from what it read; for others the first call
// reads every host's (see snapshot). Counters that cannot be read count
// as none: the round then computes no rate for the host and keeps its
// new counters.
func (d *DB) Counters(ctx context.Context, hostIP string, hostPort int) (map[string]rate.Counter, bool, error) {
	text, ok, err := d.counters.get(ctx, d.db, counterTable(), HostKey{IP: hostIP, Port: hostPort})
	if err != nil || !ok {
		return nil, false, err
	}
	var out map[string]rate.Counter
	if json.Unmarshal([]byte(text), &out) != nil {
		return nil, false, nil
	}
	return out, true, nil
}

// counterTable is how snapshots read host_counters.
func counterTable() table[HostKey, string] {
	return table[HostKey, string]{
		what:  "host counters",
		query: `SELECT host_ip, host_port, counters FROM host_counters`,
		scan: func(rows *sql.Rows) (k HostKey, counters string, err error) {
			err = rows.Scan(&k.IP, &k.Port, &counters)
			return k, counters, err
		},
		host: hostOfKey,
	}
}

// HostCounters are the counters a host reported in a round.
type HostCounters struct {
	IP       string
	Port     int
	Counters map[string]rate.Counter
}

// SetRoundCounters replaces the counters kept for each host of hosts, in
// one transaction: a round's hosts at once rather than a write each.
func (d *DB) SetRoundCounters(ctx context.Context, hosts []HostCounters) error {
	texts := make([]string, len(hosts))
	for i, h := range hosts {
		if err := checkHost(h.IP, h.Port); err != nil {
			return fmt.Errorf("store counters: %w", err)
		}
		b, err := json.Marshal(h.Counters)
		if err != nil {
			return fmt.Errorf("store the counters of %s: %w", hostLabel(h.IP, h.Port), err)
		}
		texts[i] = string(b)
	}
	now := formatTime(time.Now())
	err := d.inTx(ctx, func(tx *txn) error {
		for i, h := range hosts {
			if _, err := tx.ExecContext(ctx, setCountersSQL, h.IP, h.Port, texts[i], now); err != nil {
				return fmt.Errorf("store the counters of %s: %w", hostLabel(h.IP, h.Port), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, h := range hosts {
		d.counters.put(counterTable(), HostKey{IP: h.IP, Port: h.Port}, texts[i])
	}
	return nil
}

// setCountersSQL replaces one host's counters.
const setCountersSQL = `INSERT INTO host_counters (host_ip, host_port, counters, updated_at) VALUES (?, ?, ?, ?)
 ON CONFLICT (host_ip, host_port) DO UPDATE SET counters = excluded.counters, updated_at = excluded.updated_at`

// SetCounters replaces the counters kept for the host with counters.
func (d *DB) SetCounters(ctx context.Context, hostIP string, hostPort int, counters map[string]rate.Counter) error {
	return d.SetRoundCounters(ctx, []HostCounters{{IP: hostIP, Port: hostPort, Counters: counters}})
}
