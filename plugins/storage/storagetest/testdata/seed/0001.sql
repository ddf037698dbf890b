-- Data for a database at schema version 1, in SQL that SQLite and
-- PostgreSQL both accept: no explicit ids, timestamps as ISO-8601 text
-- literals, booleans as '0'/'1'. Statements end with ";" at the end of a
-- line.

INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES ('10.0.0.1', 22, 'web-1', 'linux', 'amd64', '0.1.0',
        '2026-11-20T09:00:00.000Z', '2026-11-20T10:01:01.000Z', 'ok', '2026-11-20T10:01:01.000Z');

INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES ('10.0.0.2', 2222, 'db-1', 'windows', 'arm64', '0.1.0',
        '2026-11-20T10:00:00.000Z', '2026-11-20T10:01:03.000Z', 'timeout', '2026-11-20T10:00:02.000Z');

INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES ('seed-1', (SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22), 'ok', NULL,
        '2026-11-20T10:00:00.000Z', '2026-11-20T10:00:01.500Z', 12.5, 3, 250, 900, 1500, '1', '0.1.0');

INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES ('seed-2', (SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22), 'ok', 'module swap: timed out',
        '2026-11-20T10:01:00.000Z', '2026-11-20T10:01:01.000Z', 10, 2, 5, 800, 1000, '0', '0.1.0');

INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES ('seed-1', (SELECT id FROM hosts WHERE ip = '10.0.0.2' AND port = 2222), 'ok', NULL,
        '2026-11-20T10:00:00.000Z', '2026-11-20T10:00:02.000Z', 20, 4, 300, 1000, 2000, '1', '0.1.0');

INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES ('seed-2', (SELECT id FROM hosts WHERE ip = '10.0.0.2' AND port = 2222), 'timeout', 'ssh: handshake timed out',
        '2026-11-20T10:01:00.000Z', '2026-11-20T10:01:03.000Z', 3000, NULL, NULL, NULL, 3000, '0', NULL);

INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
SELECT c.id, h.id, 'cpu.percent', 30, 'percent', '2026-11-20T10:00:01.000Z'
FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-1' AND h.ip = '10.0.0.1';

INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
SELECT c.id, h.id, 'cpu.percent', 35, 'percent', '2026-11-20T10:01:00.500Z'
FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-2' AND h.ip = '10.0.0.1';

INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
SELECT c.id, h.id, 'memory.used_percent', 55.5, 'percent', '2026-11-20T10:01:00.500Z'
FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-2' AND h.ip = '10.0.0.1';

INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
SELECT c.id, h.id, 'uptime.seconds', 3600, 'seconds', '2026-11-20T10:01:00.500Z'
FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-2' AND h.ip = '10.0.0.1';

INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
SELECT c.id, h.id, 'cpu.percent', 80, 'percent', '2026-11-20T10:00:01.900Z'
FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-1' AND h.ip = '10.0.0.2';
