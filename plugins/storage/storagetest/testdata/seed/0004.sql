-- Data for a database at schema version 4, on top of 0003.sql, in SQL
-- that SQLite and PostgreSQL both accept: timestamps as ISO-8601 text
-- literals, fields as JSON object text. Statements end with ";" at the end
-- of a line.

-- Record 1298116 of the Security log of 10.0.0.2 again, after the log was
-- cleared and refilled: another event, with another time.
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES ((SELECT id FROM hosts WHERE ip = '10.0.0.2' AND port = 2222), 'Security', 1298116, NULL,
        '2026-11-20T11:30:00.250Z', 'Information', 'Microsoft-Eventlog', 1102, 'db-1.corp.example',
        'The audit log was cleared.', '{"SubjectUserName":"Administrator"}');
