package state

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Member is one collector of a cluster as it last wrote itself in the
// cluster_members table.
type Member struct {
	// ID is the instance's name in the cluster (its job client's ID).
	ID string
	// Host and PID say where it runs.
	Host string
	PID  int
	// Sites are the overlay groups it works; none for the hosts of no
	// site.
	Sites []string
	// StartedAt is when it joined; SeenAt its latest heartbeat.
	StartedAt, SeenAt time.Time
	// SlotAt is the start of the latest interval it collected in (zero
	// before its first); Collected and Failed the hosts it collected in
	// that interval, Failed those not ok.
	SlotAt            time.Time
	Collected, Failed int
}

// JoinCluster records m as a member (replacing a row of the same ID) with
// no work yet.
func (d *DB) JoinCluster(ctx context.Context, m Member) error {
	if m.ID == "" {
		return fmt.Errorf("join the cluster: the member has no ID")
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO cluster_members (id, host, pid, sites, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)
	 ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, sites = excluded.sites,
	   started_at = excluded.started_at, seen_at = excluded.seen_at, slot_at = '', collected = 0, failed = 0`,
		m.ID, m.Host, m.PID, strings.Join(m.Sites, ","), formatTime(m.StartedAt), formatTime(m.SeenAt))
	if err != nil {
		return fmt.Errorf("join the cluster as %s: %w", m.ID, err)
	}
	return nil
}

// MemberSeen records a heartbeat of member id at and forgets the members
// not seen since forgetBefore (instances gone for good).
func (d *DB) MemberSeen(ctx context.Context, id string, at, forgetBefore time.Time) error {
	return d.inTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE cluster_members SET seen_at = ? WHERE id = ?`, formatTime(at), id)
		if err != nil {
			return fmt.Errorf("cluster heartbeat of %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("cluster heartbeat of %s: the member is not recorded (was it forgotten after a long pause?)", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM cluster_members WHERE seen_at < ?`, formatTime(forgetBefore)); err != nil {
			return fmt.Errorf("forget members gone since %s: %w", formatTime(forgetBefore), err)
		}
		return nil
	})
}

// AddMemberWork counts hosts collected (failed of them not ok) by member
// id in the interval that started at slot: added to what it counted for
// that interval, or replacing an earlier interval's counts.
func (d *DB) AddMemberWork(ctx context.Context, id string, slot time.Time, collected, failed int) error {
	s := formatTime(slot)
	_, err := d.db.ExecContext(ctx, `UPDATE cluster_members SET
	   collected = CASE WHEN slot_at = ? THEN collected + ? ELSE ? END,
	   failed    = CASE WHEN slot_at = ? THEN failed + ? ELSE ? END,
	   slot_at   = ?
	 WHERE id = ? AND slot_at <= ?`, s, collected, collected, s, failed, failed, s, id, s)
	if err != nil {
		return fmt.Errorf("count the work of cluster member %s: %w", id, err)
	}
	return nil
}

// LeaveCluster removes member id (an instance that stops).
func (d *DB) LeaveCluster(ctx context.Context, id string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM cluster_members WHERE id = ?`, id); err != nil {
		return fmt.Errorf("leave the cluster as %s: %w", id, err)
	}
	return nil
}

// Members returns every recorded member, by ID.
func (d *DB) Members(ctx context.Context) ([]Member, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, host, pid, sites, started_at, seen_at, slot_at, collected, failed
	 FROM cluster_members ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read the cluster members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var sites string
		var started, seen, slot sql.NullString
		if err := rows.Scan(&m.ID, &m.Host, &m.PID, &sites, &started, &seen, &slot, &m.Collected, &m.Failed); err != nil {
			return nil, fmt.Errorf("read the cluster members: %w", err)
		}
		if sites != "" {
			m.Sites = strings.Split(sites, ",")
		}
		for _, t := range []struct {
			dst *time.Time
			s   sql.NullString
		}{{&m.StartedAt, started}, {&m.SeenAt, seen}, {&m.SlotAt, slot}} {
			if *t.dst, err = parseTime(t.s); err != nil {
				return nil, fmt.Errorf("cluster member %s: %w", m.ID, err)
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the cluster members: %w", err)
	}
	return out, nil
}
