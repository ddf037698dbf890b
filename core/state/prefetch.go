package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// PrefetchAlerts reads every alert state stored for hosts, one query for
// each 400 of them, and keeps them in this DB: Get for one of these hosts
// then answers from memory (a rule with no stored state is not found)
// instead of one query per rule, and Put and CommitRound keep what is kept
// current. A round calls it once with its hosts before evaluating their
// rules; on PostgreSQL that spares a round trip per host and rule.
//
// A state another process writes for these hosts after the call is not
// seen: a host's rules must be evaluated by one core at a time (the core
// whose round collects it). Calling PrefetchAlerts again reads the hosts
// given afresh. On error no host of the call is kept and Get reads the
// database for them, as for hosts never prefetched; a host with a state
// that cannot be read is not kept either, so that its Get reports the
// error.
func (d *DB) PrefetchAlerts(ctx context.Context, hosts []HostKey) error {
	unique, err := uniqueHosts(hosts)
	if err != nil {
		return fmt.Errorf("prefetch alert states: %w", err)
	}
	return d.alerts.fill(unique, func(batch []HostKey, out map[HostKey]map[string]alertRow) error {
		return d.readAlerts(ctx, batch, out)
	})
}

// PrefetchHosts reads the event-log cursors, platform and counters stored
// for hosts, one query per table for each 400 of them, and keeps them in
// this DB: Cursor, Platform and Counters for one of these hosts then
// answer from memory (what is not stored is not found), and SetCursor,
// SetPlatform, SetRoundCounters and CommitRound keep what is kept
// current. A round calls it once with its hosts after opening the state:
// without it the first lookup reads each table whole, every host of the
// fleet, for a round that may collect a few dozen of them.
//
// A lookup of a host not given still reads the whole table, at the first
// such lookup (see snapshot). Rows another process writes for these hosts
// after the call are not seen, as after a read of the whole table (see
// Cursor, Platform and Counters). Calling PrefetchHosts again reads the
// hosts given afresh. Each table is kept or not on its own: on error, the
// tables whose read failed (every table for an invalid host) answer these
// hosts as if they were not given.
func (d *DB) PrefetchHosts(ctx context.Context, hosts []HostKey) error {
	unique, err := uniqueHosts(hosts)
	if err != nil {
		return fmt.Errorf("prefetch the hosts' event-log cursors, platforms and counters: %w", err)
	}
	return errors.Join(
		d.cursors.prefetch(ctx, d.db, cursorTable(), unique),
		d.platforms.prefetch(ctx, d.db, platformTable(), unique),
		d.counters.prefetch(ctx, d.db, counterTable(), unique))
}

// readAlerts adds to out, which holds an empty map for each host of hosts,
// the alert states of hosts, read with one query; a host with a state
// that does not parse is left out.
func (d *DB) readAlerts(ctx context.Context, hosts []HostKey, out map[HostKey]map[string]alertRow) error {
	var unreadable []HostKey
	in, args := hostsIn(hosts)
	err := eachRow(ctx, d.db, func(rows *sql.Rows) error {
		var (
			h      HostKey
			ruleID string
			stored storedAlert
		)
		if err := rows.Scan(append([]any{&h.IP, &h.Port, &ruleID}, stored.dest()...)...); err != nil {
			return err
		}
		row, err := stored.row()
		if err != nil {
			unreadable = append(unreadable, h)
			return nil
		}
		if rules, ok := out[h]; ok {
			rules[ruleID] = row
		}
		return nil
	}, `SELECT host_ip, host_port, rule_id, `+alertColumns+` FROM alert_state WHERE `+in, args...)
	if err != nil {
		return fmt.Errorf("read the alert states of %d hosts: %w", len(hosts), err)
	}
	for _, h := range unreadable {
		delete(out, h)
	}
	return nil
}

// uniqueHosts is hosts without repeats, in their first order; an error for
// a host without IP or with a port out of range.
func uniqueHosts(hosts []HostKey) ([]HostKey, error) {
	seen := make(map[HostKey]bool, len(hosts))
	unique := make([]HostKey, 0, len(hosts))
	for _, h := range hosts {
		if err := checkHost(h.IP, h.Port); err != nil {
			return nil, err
		}
		if !seen[h] {
			seen[h] = true
			unique = append(unique, h)
		}
	}
	return unique, nil
}

// prefetched are the rows of a table a prefetch read for some hosts, by
// host and key: a host absent was not prefetched, and its lookups read the
// database; a key absent from a prefetched host's rows is not stored.
type prefetched[K comparable, V any] struct {
	mu    sync.Mutex
	hosts map[HostKey]map[K]V
}

// fill reads the rows of hosts (checked, without repeats) with read, for
// each hostsPerStatement of them in turn, and keeps them in place of what
// was kept for these hosts. read adds a batch's rows to out, which holds an
// empty map for each host of the batch; a host it deletes from out is not
// kept. On error no host is kept that was not before, and those that were
// keep their rows.
func (p *prefetched[K, V]) fill(hosts []HostKey, read func(batch []HostKey, out map[HostKey]map[K]V) error) error {
	if len(hosts) == 0 {
		return nil
	}
	// Held while reading, so that a write that lands during the read
	// updates what is kept after the read, not before.
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[HostKey]map[K]V, len(hosts))
	for len(hosts) > 0 {
		batch := hosts[:min(len(hosts), hostsPerStatement)]
		hosts = hosts[len(batch):]
		for _, h := range batch {
			out[h] = map[K]V{}
		}
		if err := read(batch, out); err != nil {
			return err
		}
	}
	if p.hosts == nil {
		p.hosts = make(map[HostKey]map[K]V, len(out))
	}
	for h, rows := range out {
		p.hosts[h] = rows
	}
	return nil
}

// get returns the kept row of k on host; kept is false when the host was
// not prefetched.
func (p *prefetched[K, V]) get(host HostKey, k K) (v V, found, kept bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rows, kept := p.hosts[host]
	if !kept {
		return v, false, false
	}
	v, found = rows[k]
	return v, found, true
}

// put records a row this DB just stored, when its host was prefetched.
func (p *prefetched[K, V]) put(host HostKey, k K, v V) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rows, ok := p.hosts[host]; ok {
		rows[k] = v
	}
}
