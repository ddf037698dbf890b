package sqlite

// Every SQL statement the SQLite backend writes and prunes with. They
// are PostgreSQL's statements in SQLite's dialect (?N placeholders, text
// timestamps, rowid); what they store must stay the same on both.

const upsertHostSQL = `
INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (ip, port) DO UPDATE SET
    hostname = CASE WHEN excluded.hostname IS NOT NULL
                     AND (hosts.hostname IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
                    THEN excluded.hostname ELSE hosts.hostname END,
    os = CASE WHEN excluded.os IS NOT NULL
               AND (hosts.os IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
              THEN excluded.os ELSE hosts.os END,
    arch = CASE WHEN excluded.arch IS NOT NULL
                 AND (hosts.arch IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
                THEN excluded.arch ELSE hosts.arch END,
    agent_version = CASE WHEN excluded.agent_version IS NOT NULL
                          AND (hosts.agent_version IS NULL OR hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen)
                         THEN excluded.agent_version ELSE hosts.agent_version END,
    first_seen = CASE WHEN hosts.first_seen IS NULL OR excluded.first_seen < hosts.first_seen
                      THEN excluded.first_seen ELSE hosts.first_seen END,
    last_seen = CASE WHEN hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen
                     THEN excluded.last_seen ELSE hosts.last_seen END,
    last_status = CASE WHEN hosts.last_seen IS NULL OR excluded.last_seen >= hosts.last_seen
                       THEN excluded.last_status ELSE hosts.last_status END,
    last_ok_at = CASE WHEN excluded.last_ok_at IS NOT NULL
                       AND (hosts.last_ok_at IS NULL OR excluded.last_ok_at > hosts.last_ok_at)
                      THEN excluded.last_ok_at ELSE hosts.last_ok_at END`

const hostIDSQL = `SELECT id FROM hosts WHERE ip = ?1 AND port = ?2`

const upsertCollectionSQL = `
INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT (round_id, host_id) DO UPDATE SET
    status = excluded.status,
    error = excluded.error,
    started_at = excluded.started_at,
    finished_at = excluded.finished_at,
    connect_ms = excluded.connect_ms,
    detect_ms = excluded.detect_ms,
    upload_ms = excluded.upload_ms,
    exec_ms = excluded.exec_ms,
    total_ms = excluded.total_ms,
    agent_uploaded = excluded.agent_uploaded,
    agent_version = excluded.agent_version`

const collectionIDSQL = `SELECT id FROM collections WHERE round_id = ?1 AND host_id = ?2`

const deleteSamplesSQL = `DELETE FROM samples WHERE collection_id = ?1`

// A metric repeated within one collection keeps its last value.
const insertSampleSQL = `
INSERT INTO samples (collection_id, host_id, metric, value, unit, collected_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (collection_id, metric) DO UPDATE SET
    value = excluded.value,
    unit = excluded.unit,
    collected_at = excluded.collected_at`

// insertEventSQL stores an event unless its host already has one with the
// same channel, record id and time: a replayed round, or a cursor that
// overlaps the previous round's, stores it once, and the first row is
// kept; a record id reused after the log was cleared, with another time,
// is another event. An event without a time from its source (?12) is the
// newest one stored under its record id, if any; otherwise it takes the
// end of its collection (?5).
const insertEventSQL = `
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
VALUES (?1, ?2, ?3, ?4,
        COALESCE(CASE WHEN ?12 THEN (SELECT MAX(event_time) FROM events WHERE host_id = ?1 AND channel = ?2 AND record_id = ?3) END, ?5),
        ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (host_id, channel, record_id, event_time) DO NOTHING`

// ensureHostSQL adds a host that only an alert or a notification names,
// with no other column set; a known host is left as it is.
const ensureHostSQL = `INSERT INTO hosts (ip, port) VALUES (?1, ?2) ON CONFLICT (ip, port) DO NOTHING`

// upsertAlertSQL stores the state of a rule on a host unless the stored
// state is newer: a replayed batch never moves an alert back.
const upsertAlertSQL = `
INSERT INTO alerts (host_id, rule_id, type, metric, condition, firing, since, last_notified, last_value, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (host_id, rule_id) DO UPDATE SET
    type = excluded.type,
    metric = excluded.metric,
    condition = excluded.condition,
    firing = excluded.firing,
    since = excluded.since,
    last_notified = excluded.last_notified,
    last_value = excluded.last_value,
    updated_at = excluded.updated_at
WHERE excluded.updated_at >= alerts.updated_at`

// upsertNotificationSQL stores a notification record unless the stored
// one is newer.
const upsertNotificationSQL = `
INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at, channel)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind,
    host_id = excluded.host_id,
    recipients = excluded.recipients,
    subject = excluded.subject,
    status = excluded.status,
    attempts = excluded.attempts,
    last_error = excluded.last_error,
    created_at = excluded.created_at,
    sent_at = excluded.sent_at,
    updated_at = excluded.updated_at,
    channel = excluded.channel
WHERE excluded.updated_at >= notifications.updated_at`

// pruneSQL deletes up to ?2 collections that started before ?1, with their
// samples (ON DELETE CASCADE), except each host's latest ok collection:
// the one latest_stats shows.
const pruneSQL = `
DELETE FROM collections
WHERE id IN (
    SELECT c.id
    FROM collections c
    WHERE c.started_at < ?1
      AND NOT (c.status = 'ok' AND NOT EXISTS (
          SELECT 1 FROM collections n
          WHERE n.host_id = c.host_id AND n.status = 'ok'
            AND (n.started_at > c.started_at OR (n.started_at = c.started_at AND n.id > c.id))))
    LIMIT ?2
)`

// pruneEventsSQL deletes up to ?2 events logged before ?1.
const pruneEventsSQL = `
DELETE FROM events
WHERE rowid IN (SELECT rowid FROM events WHERE event_time < ?1 LIMIT ?2)`
