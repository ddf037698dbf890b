package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cursor returns where the next event-log read of channel on the host
// starts (an opaque text: a Windows EventRecordID, a journald cursor);
// false when none is stored yet.
func (d *DB) Cursor(ctx context.Context, hostIP string, hostPort int, channel string) (string, bool, error) {
	var cursor string
	err := d.db.QueryRowContext(ctx,
		`SELECT cursor FROM event_cursors WHERE host_ip = ? AND host_port = ? AND channel = ?`,
		hostIP, hostPort, channel).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the %s cursor of %s: %w", channel, hostLabel(hostIP, hostPort), err)
	}
	return cursor, true, nil
}

// SetCursor stores where the next event-log read of channel on the host
// starts, replacing the previous cursor.
func (d *DB) SetCursor(ctx context.Context, hostIP string, hostPort int, channel, cursor string) error {
	if err := checkHost(hostIP, hostPort); err != nil {
		return fmt.Errorf("store event-log cursor: %w", err)
	}
	if channel == "" {
		return fmt.Errorf("store event-log cursor of %s: no channel given", hostLabel(hostIP, hostPort))
	}
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO event_cursors (host_ip, host_port, channel, cursor, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port, channel) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
		hostIP, hostPort, channel, cursor, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store the %s cursor of %s: %w", channel, hostLabel(hostIP, hostPort), err)
	}
	return nil
}
