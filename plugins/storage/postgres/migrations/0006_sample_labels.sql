-- 0006_sample_labels: samples carry labels, which tell apart the samples
-- of one metric in a collection (one per file system for disk.*, one per
-- interface for net.*). labels is a jsonb object ('{}' for a metric with
-- one value per host); the primary key becomes (collection_id, metric,
-- labels). Rows written before this migration get '{}'. latest_stats
-- gains disk_used_percent_max, the fullest file system's
-- disk.used_percent.
-- Do not edit a released migration: add a new numbered file instead.

ALTER TABLE samples ADD COLUMN labels jsonb NOT NULL DEFAULT '{}';
ALTER TABLE samples DROP CONSTRAINT samples_pkey;
ALTER TABLE samples ADD CONSTRAINT samples_pkey PRIMARY KEY (collection_id, metric, labels);

CREATE OR REPLACE VIEW latest_stats AS
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
    m.uptime_seconds                      AS uptime_seconds,
    m.disk_used_percent_max               AS disk_used_percent_max
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
        max(s.value) FILTER (WHERE s.metric = 'cpu.percent' AND s.labels = '{}')         AS cpu_percent,
        max(s.value) FILTER (WHERE s.metric = 'memory.used_percent' AND s.labels = '{}') AS memory_percent,
        max(s.value) FILTER (WHERE s.metric = 'swap.used_percent' AND s.labels = '{}')   AS swap_percent,
        max(s.value) FILTER (WHERE s.metric = 'load.1' AND s.labels = '{}')              AS load1,
        max(s.value) FILTER (WHERE s.metric = 'load.5' AND s.labels = '{}')              AS load5,
        max(s.value) FILTER (WHERE s.metric = 'load.15' AND s.labels = '{}')             AS load15,
        max(s.value) FILTER (WHERE s.metric = 'uptime.seconds' AND s.labels = '{}')      AS uptime_seconds,
        max(s.value) FILTER (WHERE s.metric = 'disk.used_percent')                       AS disk_used_percent_max
    FROM samples s
    WHERE s.collection_id = c.id
      AND s.metric IN ('cpu.percent', 'memory.used_percent', 'swap.used_percent',
                       'load.1', 'load.5', 'load.15', 'uptime.seconds', 'disk.used_percent')
) m;
