-- The platform each host had when the core last detected it, so the next
-- round can skip detection and run the agent it left there in one command
-- (core/collect). A stale row costs one fallback, never a wrong run: the
-- host checks its platform, the remote directory and the agent's SHA-256
-- before running anything.
CREATE TABLE host_platforms (
    host_ip     TEXT    NOT NULL,
    host_port   INTEGER NOT NULL,
    login_user  TEXT    NOT NULL, -- the platform was detected for this login
    os          TEXT    NOT NULL, -- Go names: linux, darwin, windows
    arch        TEXT    NOT NULL, -- amd64, arm64, 386, arm
    uid         TEXT    NOT NULL, -- numeric uid (POSIX), user name (Windows)
    remote_dir  TEXT    NOT NULL, -- the agent's private directory (SFTP path)
    detected_at TEXT    NOT NULL,
    PRIMARY KEY (host_ip, host_port)
) WITHOUT ROWID;
