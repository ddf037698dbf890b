package state

import (
	"context"
	"database/sql"
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
	seen := make(map[HostKey]bool, len(hosts))
	unique := make([]HostKey, 0, len(hosts))
	for _, h := range hosts {
		if err := checkHost(h.IP, h.Port); err != nil {
			return fmt.Errorf("prefetch alert states: %w", err)
		}
		if !seen[h] {
			seen[h] = true
			unique = append(unique, h)
		}
	}
	if len(unique) == 0 {
		return nil
	}
	// Held while reading, so that a Put or CommitRound that lands during
	// the read updates what is kept after the read, not before.
	d.alerts.mu.Lock()
	defer d.alerts.mu.Unlock()
	read := make(map[HostKey]map[string]alertRow, len(unique))
	for len(unique) > 0 {
		batch := unique[:min(len(unique), hostsPerStatement)]
		unique = unique[len(batch):]
		if err := d.readAlerts(ctx, batch, read); err != nil {
			return err
		}
	}
	if d.alerts.hosts == nil {
		d.alerts.hosts = make(map[HostKey]map[string]alertRow, len(read))
	}
	for h, rules := range read {
		d.alerts.hosts[h] = rules
	}
	return nil
}

// readAlerts adds to out the alert states of hosts, read with one query;
// a host with a state that does not parse is left out.
func (d *DB) readAlerts(ctx context.Context, hosts []HostKey, out map[HostKey]map[string]alertRow) error {
	for _, h := range hosts {
		out[h] = map[string]alertRow{}
	}
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

// prefetchedAlerts are the alert states PrefetchAlerts read, by host and
// rule; a host absent was not prefetched, and Get reads its states from
// the database.
type prefetchedAlerts struct {
	mu    sync.Mutex
	hosts map[HostKey]map[string]alertRow
}

// get returns the kept state of ruleID on host; kept is false when the
// host was not prefetched.
func (p *prefetchedAlerts) get(host HostKey, ruleID string) (row alertRow, found, kept bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rules, kept := p.hosts[host]
	if !kept {
		return alertRow{}, false, false
	}
	row, found = rules[ruleID]
	return row, found, true
}

// put records a state this DB just stored, when its host was prefetched.
func (p *prefetchedAlerts) put(host HostKey, ruleID string, row alertRow) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rules, ok := p.hosts[host]; ok {
		rules[ruleID] = row
	}
}
