-- Data for a database at schema version 2, on top of 0001.sql, in SQL
-- that SQLite and PostgreSQL both accept: no explicit ids, timestamps as
-- ISO-8601 text literals, booleans as '0'/'1', recipients as JSON text.
-- Statements end with ";" at the end of a line.

INSERT INTO alerts (host_id, rule_id, type, metric, condition, firing, since, last_notified, last_value, updated_at)
VALUES ((SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22), 'memory>50', 'memory', 'memory.used_percent', '> 50%', '1',
        '2026-11-20T10:01:01.000Z', '2026-11-20T10:01:02.000Z', 55.5, '2026-11-20T10:01:02.000Z');

INSERT INTO alerts (host_id, rule_id, type, metric, condition, firing, since, last_notified, last_value, updated_at)
VALUES ((SELECT id FROM hosts WHERE ip = '10.0.0.2' AND port = 2222), 'cpu>90', 'cpu', 'cpu.percent', '> 90%', '0',
        NULL, NULL, NULL, '2026-11-20T10:01:03.000Z');

INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at)
VALUES ('seed-2/10.0.0.1:22/alert', 'alert', (SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22),
        '["ops@example.com"]', 'CSCS alert: web-1 memory 55.5% > 50%', 'sent', 1, NULL,
        '2026-11-20T10:01:01.500Z', '2026-11-20T10:01:02.000Z', '2026-11-20T10:01:02.000Z');

INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at)
VALUES ('seed-test', 'test', NULL, '["ops@example.com", "noc@example.com"]', 'CSCS test mail', 'failed', 3,
        '535 5.7.8 authentication failed', '2026-11-20T09:00:00.000Z', NULL, '2026-11-20T09:05:00.000Z');
