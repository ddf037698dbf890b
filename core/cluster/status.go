package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cscs-dev/cscs/core/state"
)

// Status is the cluster as one member sees it.
type Status struct {
	// Self is this member's ID; Leader the member River elected (empty
	// while none is).
	Self, Leader string
	Members      []MemberStatus
	Queues       []QueueStatus
}

// MemberStatus is one member: what it recorded, and whether it beat
// within three heartbeats.
type MemberStatus struct {
	state.Member
	Alive bool
}

// QueueStatus is one queue of collect (or dispatch) jobs.
type QueueStatus struct {
	Name string
	// Waiting jobs are available to work; Running ones are being worked.
	Waiting, Running int
	// Lag is how long the oldest waiting job has waited (0 when none
	// waits).
	Lag time.Duration
}

// Status reads the cluster's members and queues.
func (m *Member) Status(ctx context.Context) (Status, error) {
	s := Status{Self: m.id}
	members, err := m.st.Members(ctx)
	if err != nil {
		return s, err
	}
	now := time.Now()
	for _, mem := range members {
		s.Members = append(s.Members, MemberStatus{Member: mem, Alive: now.Sub(mem.SeenAt) < 3*Heartbeat})
	}
	err = m.pool.QueryRow(ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now()`).Scan(&s.Leader)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("read the cluster's leader: %w", err)
	}
	rows, err := m.pool.Query(ctx, `SELECT queue,
	   count(*) FILTER (WHERE state = 'available'),
	   count(*) FILTER (WHERE state = 'running'),
	   COALESCE(EXTRACT(EPOCH FROM now() - min(scheduled_at) FILTER (WHERE state = 'available')), 0)::float8
	 FROM river_job WHERE state IN ('available', 'running') GROUP BY queue ORDER BY queue`)
	if err != nil {
		return s, fmt.Errorf("read the cluster's queues: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var q QueueStatus
		var lag float64
		if err := rows.Scan(&q.Name, &q.Waiting, &q.Running, &lag); err != nil {
			return s, fmt.Errorf("read the cluster's queues: %w", err)
		}
		q.Lag = time.Duration(lag * float64(time.Second))
		s.Queues = append(s.Queues, q)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("read the cluster's queues: %w", err)
	}
	return s, nil
}
