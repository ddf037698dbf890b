-- 0002_alerts_notifications: the alert state per host and rule, the
-- notification outbox, and the firing_alerts view.
--
-- The core keeps its own copy of both (its state database) and hands the
-- rows that changed to every storage with each round; these tables are
-- what the consuming application reads. docs/schema.md describes them.
-- Conventions as in 0001_init: timestamps are TEXT in UTC, ISO-8601 with
-- milliseconds; booleans are INTEGER 0/1; missing values are NULL.
-- Do not edit a released migration: add a new numbered file instead.

-- One row per host and alert rule: its newest state (by updated_at).
CREATE TABLE alerts (
    host_id       INTEGER NOT NULL REFERENCES hosts (id),
    rule_id       TEXT    NOT NULL,
    type          TEXT,
    metric        TEXT,
    condition     TEXT,
    firing        INTEGER NOT NULL CONSTRAINT alerts_firing_bool CHECK (firing IN (0, 1)),
    since         TEXT,
    last_notified TEXT,
    last_value    REAL,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (host_id, rule_id)
) WITHOUT ROWID;

-- One row per notification of the core's outbox: its newest record (by
-- updated_at). The body is not stored here.
CREATE TABLE notifications (
    id         TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL CONSTRAINT notifications_kind_valid CHECK (kind IN ('alert', 'eventlog', 'test')),
    host_id    INTEGER REFERENCES hosts (id),
    recipients TEXT    NOT NULL CONSTRAINT notifications_recipients_array CHECK (json_type(recipients) = 'array'),
    subject    TEXT,
    status     TEXT    NOT NULL CONSTRAINT notifications_status_valid CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0 CONSTRAINT notifications_attempts_valid CHECK (attempts >= 0),
    last_error TEXT,
    created_at TEXT    NOT NULL,
    sent_at    TEXT,
    updated_at TEXT    NOT NULL
);

-- Notifications with a given status, in time order ("mail that failed").
CREATE INDEX notifications_status_created ON notifications (status, created_at);
-- The notifications about one host, in time order.
CREATE INDEX notifications_host_created ON notifications (host_id, created_at);

-- The alert rules firing now, one row per host and rule, with the host.
CREATE VIEW firing_alerts AS
SELECT
    h.id            AS host_id,
    h.ip            AS host_ip,
    h.port          AS host_port,
    h.hostname      AS hostname,
    a.rule_id       AS rule_id,
    a.type          AS type,
    a.metric        AS metric,
    a.condition     AS condition,
    a.last_value    AS last_value,
    a.since         AS since,
    a.last_notified AS last_notified,
    a.updated_at    AS updated_at
FROM alerts a
JOIN hosts h ON h.id = a.host_id
WHERE a.firing = 1;
