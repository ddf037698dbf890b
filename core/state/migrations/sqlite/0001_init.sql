-- The core's own state: read back by the core between rounds, never by
-- the consuming application (which sees alerts and notifications through
-- the storage plugins). Times are UTC text, 2006-01-02T15:04:05.000000000Z,
-- so that they sort and compare as text.

-- One row per host and alert rule: whether it fires and when it last mailed.
CREATE TABLE alert_state (
    host_ip       TEXT    NOT NULL,
    host_port     INTEGER NOT NULL,
    rule_id       TEXT    NOT NULL,
    firing        INTEGER NOT NULL CHECK (firing IN (0, 1)),
    since         TEXT,             -- NULL: never changed state
    last_notified TEXT,             -- NULL: never mailed
    last_value    REAL,             -- NULL: not a number
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (host_ip, host_port, rule_id)
) WITHOUT ROWID;

-- The last few values of each metric per host, for rules over N rounds.
-- Inserts trim each host and metric to the newest rows.
CREATE TABLE recent_values (
    host_ip   TEXT    NOT NULL,
    host_port INTEGER NOT NULL,
    metric    TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    value     REAL    NOT NULL,
    PRIMARY KEY (host_ip, host_port, metric, at)
) WITHOUT ROWID;

-- The mail outbox. A row is written (pending) before any attempt to send
-- it; a sender claims it (sending, with a token and a lease), then marks it
-- sent, pending again with a later next_attempt_at, or failed.
CREATE TABLE notifications (
    id              TEXT    PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('alert', 'eventlog', 'test')),
    host_ip         TEXT    NOT NULL DEFAULT '',
    host_port       INTEGER NOT NULL DEFAULT 0,
    recipients      TEXT    NOT NULL, -- JSON array of addresses
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    server_reply    TEXT    NOT NULL DEFAULT '',
    claim_token     TEXT    NOT NULL DEFAULT '',
    lease_until     TEXT
);

CREATE INDEX notifications_status_due ON notifications (status, next_attempt_at);

-- Where the next event-log read of each host and channel starts.
CREATE TABLE event_cursors (
    host_ip    TEXT    NOT NULL,
    host_port  INTEGER NOT NULL,
    channel    TEXT    NOT NULL,
    cursor     TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (host_ip, host_port, channel)
) WITHOUT ROWID;
