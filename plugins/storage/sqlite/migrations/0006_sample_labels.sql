-- 0006_sample_labels: samples carry labels, which tell apart the samples
-- of one metric in a collection (one per file system for disk.*, one per
-- interface for net.*). labels is a JSON object with its keys sorted
-- ('{}' for a metric with one value per host); the primary key becomes
-- (collection_id, metric, labels). Rows written before this migration
-- get '{}'. latest_stats gains disk_used_percent_max, the fullest file
-- system's disk.used_percent.
-- SQLite cannot change a primary key in place: the table is rebuilt.
-- Do not edit a released migration: add a new numbered file instead.

DROP VIEW latest_stats;

CREATE TABLE samples_labelled (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    host_id       INTEGER NOT NULL REFERENCES hosts (id),
    metric        TEXT    NOT NULL,
    labels        TEXT    NOT NULL DEFAULT '{}',
    value         REAL    NOT NULL,
    unit          TEXT    NOT NULL,
    collected_at  TEXT    NOT NULL,
    PRIMARY KEY (collection_id, metric, labels)
) WITHOUT ROWID;

INSERT INTO samples_labelled (collection_id, host_id, metric, labels, value, unit, collected_at)
SELECT collection_id, host_id, metric, '{}', value, unit, collected_at FROM samples;

DROP TABLE samples;
ALTER TABLE samples_labelled RENAME TO samples;

-- One metric of one host over time.
CREATE INDEX samples_host_metric_collected ON samples (host_id, metric, collected_at);

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
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'cpu.percent' AND s.labels = '{}')         AS cpu_percent,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'memory.used_percent' AND s.labels = '{}') AS memory_percent,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'swap.used_percent' AND s.labels = '{}')   AS swap_percent,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'load.1' AND s.labels = '{}')              AS load1,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'load.5' AND s.labels = '{}')              AS load5,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'load.15' AND s.labels = '{}')             AS load15,
    (SELECT s.value FROM samples s WHERE s.collection_id = c.id AND s.metric = 'uptime.seconds' AND s.labels = '{}')      AS uptime_seconds,
    (SELECT max(s.value) FROM samples s WHERE s.collection_id = c.id AND s.metric = 'disk.used_percent')                  AS disk_used_percent_max
FROM hosts h
JOIN collections c ON c.id = (
    SELECT c2.id
    FROM collections c2
    WHERE c2.host_id = h.id AND c2.status = 'ok'
    ORDER BY c2.started_at DESC, c2.id DESC
    LIMIT 1
);
