-- 0001_init: hosts, collections, samples and the latest_stats view.
--
-- This schema is a contract read by other applications; docs/schema.md
-- describes every table, column, index and view. Conventions:
--   * timestamps are TEXT in UTC, ISO-8601 with milliseconds,
--     e.g. '2026-11-25T22:10:00.123Z', so they sort as text;
--   * durations are REAL milliseconds (columns ending in _ms);
--   * booleans are INTEGER 0/1.
-- Do not edit a released migration: add a new numbered file instead.

CREATE TABLE hosts (
    id            INTEGER PRIMARY KEY,
    ip            TEXT    NOT NULL,
    port          INTEGER NOT NULL CONSTRAINT hosts_port_valid CHECK (port BETWEEN 1 AND 65535),
    hostname      TEXT,
    os            TEXT,
    arch          TEXT,
    agent_version TEXT,
    first_seen    TEXT,
    last_seen     TEXT,
    last_status   TEXT CONSTRAINT hosts_last_status_valid CHECK (last_status IS NULL OR last_status IN (
                      'ok', 'unreachable', 'auth_failed', 'host_key_mismatch',
                      'host_key_unknown', 'timeout', 'agent_error', 'bad_report',
                      'cancelled')),
    last_ok_at    TEXT,
    UNIQUE (ip, port)
);

CREATE TABLE collections (
    id             INTEGER PRIMARY KEY,
    round_id       TEXT    NOT NULL,
    host_id        INTEGER NOT NULL REFERENCES hosts (id),
    status         TEXT    NOT NULL CONSTRAINT collections_status_valid CHECK (status IN (
                       'ok', 'unreachable', 'auth_failed', 'host_key_mismatch',
                       'host_key_unknown', 'timeout', 'agent_error', 'bad_report',
                       'cancelled')),
    error          TEXT,
    started_at     TEXT    NOT NULL,
    finished_at    TEXT,
    connect_ms     REAL,
    detect_ms      REAL,
    upload_ms      REAL,
    exec_ms        REAL,
    total_ms       REAL,
    agent_uploaded INTEGER NOT NULL DEFAULT 0 CONSTRAINT collections_agent_uploaded_bool CHECK (agent_uploaded IN (0, 1)),
    agent_version  TEXT,
    UNIQUE (round_id, host_id)
);

-- A host's history in time order.
CREATE INDEX collections_host_started ON collections (host_id, started_at);
-- A host's latest collection with a given status (latest_stats uses it).
CREATE INDEX collections_host_status_started ON collections (host_id, status, started_at);
-- Collections with a given status, in time order.
CREATE INDEX collections_status_started ON collections (status, started_at);
-- Everything in a time window (e.g. failures of the last day).
CREATE INDEX collections_started ON collections (started_at);

CREATE TABLE samples (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    host_id       INTEGER NOT NULL REFERENCES hosts (id),
    metric        TEXT    NOT NULL,
    value         REAL    NOT NULL,
    unit          TEXT    NOT NULL,
    collected_at  TEXT    NOT NULL,
    PRIMARY KEY (collection_id, metric)
) WITHOUT ROWID;

-- One metric of one host over time.
CREATE INDEX samples_host_metric_collected ON samples (host_id, metric, collected_at);

-- One row per host that has at least one ok collection, from its most
-- recent ok collection (by started_at). A metric the host did not report
-- in that collection is NULL.
CREATE VIEW latest_stats AS
SELECT
    h.id                                AS host_id,
    h.ip                                AS host_ip,
    h.port                              AS host_port,
    h.hostname                          AS hostname,
    h.os                                AS os,
    h.arch                              AS arch,
    c.id                                AS collection_id,
    c.round_id                          AS round_id,
    c.agent_version                     AS agent_version,
    COALESCE(c.finished_at, c.started_at) AS collected_at,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'cpu.percent')         AS cpu_percent,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'memory.used_percent') AS memory_percent,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'swap.used_percent')   AS swap_percent,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'load.1')              AS load1,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'load.5')              AS load5,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'load.15')             AS load15,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'uptime.seconds')      AS uptime_seconds
FROM hosts h
JOIN collections c ON c.id = (
    SELECT c2.id
    FROM collections c2
    WHERE c2.host_id = h.id AND c2.status = 'ok'
    ORDER BY c2.started_at DESC, c2.id DESC
    LIMIT 1
);
