-- The core's own state on PostgreSQL: the same tables, columns and
-- meaning as migrations/sqlite/0001_init.sql. Times are UTC text,
-- 2006-01-02T15:04:05.000000000Z, as on SQLite; every text column is
-- COLLATE "C" so that it sorts and compares byte by byte, as SQLite's
-- BINARY collation does. REAL is DOUBLE PRECISION (SQLite's REAL is
-- 8 bytes; PostgreSQL's is 4).

-- One row per host and alert rule: whether it fires and when it last mailed.
CREATE TABLE alert_state (
    host_ip       TEXT COLLATE "C" NOT NULL,
    host_port     INTEGER          NOT NULL,
    rule_id       TEXT COLLATE "C" NOT NULL,
    firing        INTEGER          NOT NULL CHECK (firing IN (0, 1)),
    since         TEXT COLLATE "C",          -- NULL: never changed state
    last_notified TEXT COLLATE "C",          -- NULL: never mailed
    last_value    DOUBLE PRECISION,          -- NULL: not a number
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (host_ip, host_port, rule_id)
);

-- The last few values of each metric per host, for rules over N rounds.
-- Inserts trim each host and metric to the newest rows.
CREATE TABLE recent_values (
    host_ip   TEXT COLLATE "C" NOT NULL,
    host_port INTEGER          NOT NULL,
    metric    TEXT COLLATE "C" NOT NULL,
    at        TEXT COLLATE "C" NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (host_ip, host_port, metric, at)
);

-- The mail outbox. A row is written (pending) before any attempt to send
-- it; a sender claims it (sending, with a token and a lease), then marks it
-- sent, pending again with a later next_attempt_at, or failed. rowid is
-- the order rows were queued in, as SQLite's implicit rowid.
CREATE TABLE notifications (
    id              TEXT COLLATE "C" PRIMARY KEY,
    kind            TEXT COLLATE "C" NOT NULL CHECK (kind IN ('alert', 'eventlog', 'test')),
    host_ip         TEXT COLLATE "C" NOT NULL DEFAULT '',
    host_port       INTEGER          NOT NULL DEFAULT 0,
    recipients      TEXT COLLATE "C" NOT NULL, -- JSON array of addresses
    subject         TEXT COLLATE "C" NOT NULL,
    body            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER          NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    last_error      TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      TEXT COLLATE "C" NOT NULL,
    sent_at         TEXT COLLATE "C",
    server_reply    TEXT COLLATE "C" NOT NULL DEFAULT '',
    claim_token     TEXT COLLATE "C" NOT NULL DEFAULT '',
    lease_until     TEXT COLLATE "C",
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE INDEX notifications_status_due ON notifications (status, next_attempt_at);

-- Where the next event-log read of each host and channel starts.
CREATE TABLE event_cursors (
    host_ip    TEXT COLLATE "C" NOT NULL,
    host_port  INTEGER          NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL,
    cursor     TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (host_ip, host_port, channel)
);
