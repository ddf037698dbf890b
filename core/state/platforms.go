package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/core/transport"
)

// The state database remembers each host's platform between rounds for
// core/round/remote. This file is the only one that knows core/transport's
// types.

// storedPlatform is one row of host_platforms.
type storedPlatform struct {
	user string
	p    transport.Platform
}

// Platform returns the platform last detected on a host for the login
// user; false when none is stored, or it was detected for another user
// (whose uid and remote directory differ). A host given to PrefetchHosts
// is answered from what it read; for others the first call reads the
// whole table (see snapshot). A platform another process stored since is
// not seen, which costs that host one detection.
func (d *DB) Platform(ctx context.Context, hostIP string, hostPort int, user string) (transport.Platform, bool, error) {
	row, ok, err := d.platforms.get(ctx, d.db, platformTable(), HostKey{IP: hostIP, Port: hostPort})
	if err != nil {
		return transport.Platform{}, false, err
	}
	if !ok || row.user != user {
		return transport.Platform{}, false, nil
	}
	return row.p, true, nil
}

// platformTable is how snapshots read host_platforms.
func platformTable() table[HostKey, storedPlatform] {
	return table[HostKey, storedPlatform]{
		what:  "host platforms",
		query: `SELECT host_ip, host_port, login_user, os, arch, uid, remote_dir, shell FROM host_platforms`,
		scan: func(rows *sql.Rows) (k HostKey, row storedPlatform, err error) {
			err = rows.Scan(&k.IP, &k.Port, &row.user, &row.p.OS, &row.p.Arch, &row.p.UID, &row.p.RemoteDir, &row.p.Shell)
			return k, row, err
		},
		host: hostOfKey,
	}
}

// SetPlatform stores the platform just detected on a host for the login
// user, replacing what was stored.
func (d *DB) SetPlatform(ctx context.Context, hostIP string, hostPort int, user string, p transport.Platform) error {
	if err := checkHost(hostIP, hostPort); err != nil {
		return fmt.Errorf("store host platform: %w", err)
	}
	if p.OS == "" || p.Arch == "" || p.RemoteDir == "" {
		return fmt.Errorf("store the platform of %s: OS, architecture and remote directory are required", hostLabel(hostIP, hostPort))
	}
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO host_platforms (host_ip, host_port, login_user, os, arch, uid, remote_dir, shell, detected_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port) DO UPDATE SET
		   login_user = excluded.login_user, os = excluded.os, arch = excluded.arch, uid = excluded.uid,
		   remote_dir = excluded.remote_dir, shell = excluded.shell, detected_at = excluded.detected_at`,
		hostIP, hostPort, user, p.OS, p.Arch, p.UID, p.RemoteDir, p.Shell, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store the platform of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	d.platforms.put(platformTable(), HostKey{IP: hostIP, Port: hostPort}, storedPlatform{user: user, p: p})
	return nil
}
