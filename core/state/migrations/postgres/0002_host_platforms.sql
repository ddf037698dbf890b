-- The platform each host had when the core last detected it (see
-- migrations/sqlite/0002_host_platforms.sql).
CREATE TABLE host_platforms (
    host_ip     TEXT COLLATE "C" NOT NULL,
    host_port   INTEGER          NOT NULL,
    login_user  TEXT COLLATE "C" NOT NULL, -- the platform was detected for this login
    os          TEXT COLLATE "C" NOT NULL, -- Go names: linux, darwin, windows
    arch        TEXT COLLATE "C" NOT NULL, -- amd64, arm64, 386, arm
    uid         TEXT COLLATE "C" NOT NULL, -- numeric uid (POSIX), user name (Windows)
    remote_dir  TEXT COLLATE "C" NOT NULL, -- the agent's private directory (SFTP path)
    detected_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (host_ip, host_port)
);
