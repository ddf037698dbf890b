-- Data for a database at schema version 3, on top of 0002.sql, in SQL
-- that SQLite and PostgreSQL both accept: timestamps as ISO-8601 text
-- literals, fields as JSON object text. Statements end with ";" at the end
-- of a line.

INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES ((SELECT id FROM hosts WHERE ip = '10.0.0.2' AND port = 2222), 'Security', 1298116,
        (SELECT c.id FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-1' AND h.ip = '10.0.0.2'),
        '2026-11-20T09:59:30.517Z', 'Information', 'Microsoft-Windows-Security-Auditing', 4625, 'db-1.corp.example',
        'An account failed to log on.', '{"TargetUserName":"Administrator","IpAddress":"198.51.100.7","LogonType":"3"}');

INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES ((SELECT id FROM hosts WHERE ip = '10.0.0.2' AND port = 2222), 'Security', 1298117, NULL,
        '2026-11-20T09:59:31.000Z', 'Information', 'Microsoft-Windows-Security-Auditing', 4624, 'db-1.corp.example',
        'An account was successfully logged on.', '{}');

INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES ((SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22), 'auth', 77,
        (SELECT c.id FROM collections c JOIN hosts h ON h.id = c.host_id WHERE c.round_id = 'seed-2' AND h.ip = '10.0.0.1'),
        '2026-11-20T10:00:59.000Z', NULL, 'sshd', 0, NULL, NULL, '{"user":"ops"}');
