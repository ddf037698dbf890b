package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// cursorKey names one channel of a host.
type cursorKey struct {
	ip      string
	port    int
	channel string
}

// Cursor returns where the next event-log read of channel on the host
// starts (an opaque text: a Windows EventRecordID, a journald cursor);
// false when none is stored yet. A host given to PrefetchHosts is answered
// from what it read; for others the first call reads every cursor (see
// snapshot). A cursor another process advanced since is not seen, so those
// events are read again and the storages drop the duplicates.
func (d *DB) Cursor(ctx context.Context, hostIP string, hostPort int, channel string) (string, bool, error) {
	return d.cursors.get(ctx, d.db, cursorTable(), cursorKey{hostIP, hostPort, channel})
}

// cursorTable is how snapshots read event_cursors.
func cursorTable() table[cursorKey, string] {
	return table[cursorKey, string]{
		what:  "event-log cursors",
		query: `SELECT host_ip, host_port, channel, cursor FROM event_cursors`,
		scan: func(rows *sql.Rows) (k cursorKey, cursor string, err error) {
			err = rows.Scan(&k.ip, &k.port, &k.channel, &cursor)
			return k, cursor, err
		},
		host: func(k cursorKey) HostKey { return HostKey{IP: k.ip, Port: k.port} },
	}
}

// SetCursor stores where the next event-log read of channel on the host
// starts, replacing the previous cursor.
func (d *DB) SetCursor(ctx context.Context, hostIP string, hostPort int, channel, cursor string) error {
	c := Cursor{HostIP: hostIP, HostPort: hostPort, Channel: channel, Cursor: cursor}
	if err := c.check(); err != nil {
		return err
	}
	if err := putCursor(ctx, d.db, c); err != nil {
		return err
	}
	d.cursors.put(cursorTable(), cursorKey{hostIP, hostPort, channel}, cursor)
	return nil
}

// Cursor is where a host's event channel was read up to.
type Cursor struct {
	HostIP   string
	HostPort int
	Channel  string
	Cursor   string
}

// check refuses a cursor without a host or channel.
func (c Cursor) check() error {
	if err := checkHost(c.HostIP, c.HostPort); err != nil {
		return fmt.Errorf("store event-log cursor: %w", err)
	}
	if c.Channel == "" {
		return fmt.Errorf("store event-log cursor of %s: no channel given", hostLabel(c.HostIP, c.HostPort))
	}
	return nil
}

// putCursor writes c with ex.
func putCursor(ctx context.Context, ex execer, c Cursor) error {
	_, err := ex.ExecContext(ctx,
		`INSERT INTO event_cursors (host_ip, host_port, channel, cursor, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port, channel) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
		c.HostIP, c.HostPort, c.Channel, c.Cursor, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store the %s cursor of %s: %w", c.Channel, hostLabel(c.HostIP, c.HostPort), err)
	}
	return nil
}
