-- Data for a database at schema version 6, on top of 0005.sql, in SQL
-- that SQLite and PostgreSQL both accept. Statements end with ";" at the
-- end of a line.

-- Two file systems of web-1 in its latest collection: the same metric
-- twice, told apart by labels, beside the unlabelled samples of 0001.sql.
INSERT INTO samples (collection_id, host_id, metric, labels, value, unit, collected_at)
VALUES ((SELECT c.id FROM collections c JOIN hosts h ON h.id = c.host_id WHERE h.ip = '10.0.0.1' AND c.round_id = 'seed-2'),
        (SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22),
        'disk.used_percent', '{"device":"/dev/sda1","fstype":"ext4","mount":"/"}', 41.5, 'percent', '2026-11-20T10:01:01.000Z');
INSERT INTO samples (collection_id, host_id, metric, labels, value, unit, collected_at)
VALUES ((SELECT c.id FROM collections c JOIN hosts h ON h.id = c.host_id WHERE h.ip = '10.0.0.1' AND c.round_id = 'seed-2'),
        (SELECT id FROM hosts WHERE ip = '10.0.0.1' AND port = 22),
        'disk.used_percent', '{"device":"/dev/sdb1","fstype":"xfs","mount":"/var"}', 92.25, 'percent', '2026-11-20T10:01:01.000Z');
