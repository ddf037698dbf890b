-- Data for a database at schema version 5, on top of 0004.sql, in SQL
-- that SQLite and PostgreSQL both accept. Statements end with ";" at the
-- end of a line.

-- The seeded alert mail of 0002.sql, routed to a chat notifier as well:
-- a record of its own on channel 'chat'.
INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at, channel)
VALUES ('seed-2/10.0.0.1:22/alert@chat', 'alert', (SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22),
        '[]', 'CSCS alert: web-1 memory 55.5% > 50%', 'sent', 1, NULL,
        '2026-11-20T10:01:01.500Z', '2026-11-20T10:01:02.500Z', '2026-11-20T10:01:02.500Z', 'chat');
