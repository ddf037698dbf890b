package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/core/transport"
)

// The state database remembers each host's platform between rounds for
// core/collect. This file is the only one that knows core/transport's
// types.

// Platform returns the platform last detected on a host for the login
// user; false when none is stored, or it was detected for another user
// (whose uid and remote directory differ).
func (d *DB) Platform(ctx context.Context, hostIP string, hostPort int, user string) (transport.Platform, bool, error) {
	var (
		p     transport.Platform
		login string
	)
	err := d.db.QueryRowContext(ctx,
		`SELECT login_user, os, arch, uid, remote_dir FROM host_platforms WHERE host_ip = ? AND host_port = ?`,
		hostIP, hostPort).Scan(&login, &p.OS, &p.Arch, &p.UID, &p.RemoteDir)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && login != user) {
		return transport.Platform{}, false, nil
	}
	if err != nil {
		return transport.Platform{}, false, fmt.Errorf("read the platform of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	return p, true, nil
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
		`INSERT INTO host_platforms (host_ip, host_port, login_user, os, arch, uid, remote_dir, detected_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port) DO UPDATE SET
		   login_user = excluded.login_user, os = excluded.os, arch = excluded.arch, uid = excluded.uid,
		   remote_dir = excluded.remote_dir, detected_at = excluded.detected_at`,
		hostIP, hostPort, user, p.OS, p.Arch, p.UID, p.RemoteDir, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store the platform of %s: %w", hostLabel(hostIP, hostPort), err)
	}
	return nil
}
