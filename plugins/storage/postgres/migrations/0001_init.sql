-- 0001_init: hosts, collections, samples and the latest_stats view.
--
-- This schema is a contract read by other applications; docs/schema.md
-- describes every table, column, index and view. It has the same tables,
-- columns, constraints, indexes and view as the SQLite schema, in
-- PostgreSQL's native types:
--   * timestamps are timestamptz, stored to the millisecond;
--   * durations are double precision milliseconds (columns ending in _ms);
--   * flags are boolean;
--   * keys are bigint identity columns.
-- Do not edit a released migration: add a new numbered file instead.

CREATE TABLE hosts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ip            text    NOT NULL,
    port          integer NOT NULL CONSTRAINT hosts_port_valid CHECK (port BETWEEN 1 AND 65535),
    hostname      text,
    os            text,
    arch          text,
    agent_version text,
    first_seen    timestamptz,
    last_seen     timestamptz,
    last_status   text CONSTRAINT hosts_last_status_valid CHECK (last_status IS NULL OR last_status IN (
                      'ok', 'unreachable', 'auth_failed', 'host_key_mismatch',
                      'host_key_unknown', 'timeout', 'agent_error', 'bad_report',
                      'cancelled')),
    last_ok_at    timestamptz,
    CONSTRAINT hosts_ip_port_key UNIQUE (ip, port)
);

CREATE TABLE collections (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id       text    NOT NULL,
    host_id        bigint  NOT NULL REFERENCES hosts (id),
    status         text    NOT NULL CONSTRAINT collections_status_valid CHECK (status IN (
                       'ok', 'unreachable', 'auth_failed', 'host_key_mismatch',
                       'host_key_unknown', 'timeout', 'agent_error', 'bad_report',
                       'cancelled')),
    error          text,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    connect_ms     double precision,
    detect_ms      double precision,
    upload_ms      double precision,
    exec_ms        double precision,
    total_ms       double precision,
    agent_uploaded boolean NOT NULL DEFAULT false,
    agent_version  text,
    CONSTRAINT collections_round_id_host_id_key UNIQUE (round_id, host_id)
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
    collection_id bigint           NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    host_id       bigint           NOT NULL REFERENCES hosts (id),
    metric        text             NOT NULL,
    value         double precision NOT NULL,
    unit          text             NOT NULL,
    collected_at  timestamptz      NOT NULL,
    PRIMARY KEY (collection_id, metric)
);

-- One metric of one host over time.
CREATE INDEX samples_host_metric_collected ON samples (host_id, metric, collected_at);

-- One row per host that has at least one ok collection, from its most
-- recent ok collection (by started_at). A metric the host did not report
-- in that collection is NULL.
CREATE VIEW latest_stats AS
SELECT
    h.id                                  AS host_id,
    h.ip                                  AS host_ip,
    h.port                                AS host_port,
    h.hostname                            AS hostname,
    h.os                                  AS os,
    h.arch                                AS arch,
    c.id                                  AS collection_id,
    c.round_id                            AS round_id,
    c.agent_version                       AS agent_version,
    COALESCE(c.finished_at, c.started_at) AS collected_at,
    m.cpu_percent                         AS cpu_percent,
    m.memory_percent                      AS memory_percent,
    m.swap_percent                        AS swap_percent,
    m.load1                               AS load1,
    m.load5                               AS load5,
    m.load15                              AS load15,
    m.uptime_seconds                      AS uptime_seconds
FROM hosts h
JOIN LATERAL (
    SELECT c2.id, c2.round_id, c2.agent_version, c2.started_at, c2.finished_at
    FROM collections c2
    WHERE c2.host_id = h.id AND c2.status = 'ok'
    ORDER BY c2.started_at DESC, c2.id DESC
    LIMIT 1
) c ON true
CROSS JOIN LATERAL (
    SELECT
        max(s.value) FILTER (WHERE s.metric = 'cpu.percent')         AS cpu_percent,
        max(s.value) FILTER (WHERE s.metric = 'memory.used_percent') AS memory_percent,
        max(s.value) FILTER (WHERE s.metric = 'swap.used_percent')   AS swap_percent,
        max(s.value) FILTER (WHERE s.metric = 'load.1')              AS load1,
        max(s.value) FILTER (WHERE s.metric = 'load.5')              AS load5,
        max(s.value) FILTER (WHERE s.metric = 'load.15')             AS load15,
        max(s.value) FILTER (WHERE s.metric = 'uptime.seconds')      AS uptime_seconds
    FROM samples s
    WHERE s.collection_id = c.id
      AND s.metric IN ('cpu.percent', 'memory.used_percent', 'swap.used_percent',
                       'load.1', 'load.5', 'load.15', 'uptime.seconds')
) m;
