package sqlite

import (
	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
)

// Every SQL statement the SQLite backend writes and prunes with. They
// are PostgreSQL's statements in SQLite's dialect (?N placeholders, text
// timestamps, rowid); what they store must stay the same on both.

const upsertHostSQL = `
INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)` + sqlbatch.HostConflict

const hostIDSQL = `SELECT id FROM hosts WHERE ip = ?1 AND port = ?2`

const upsertCollectionSQL = `
INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)` + sqlbatch.CollectionConflict

const collectionIDSQL = `SELECT id FROM collections WHERE round_id = ?1 AND host_id = ?2`

const deleteSamplesSQL = `DELETE FROM samples WHERE collection_id = ?1`

// A metric repeated with the same labels within one collection keeps its
// last value.
const insertSampleSQL = `
INSERT INTO samples (collection_id, host_id, metric, labels, value, unit, collected_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (collection_id, metric, labels) DO UPDATE SET
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
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)` + sqlbatch.AlertConflict

// upsertNotificationSQL stores a notification record unless the stored
// one is newer.
const upsertNotificationSQL = `
INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at, channel)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)` + sqlbatch.NotificationConflict

// The rows a prune deletes and a preview counts, ?1 the cutoff: DELETE and
// COUNT are both made from these conditions (retained.Rows), so that they
// cannot drift apart.
var (
	// pruneCollections are the collections that started before ?1, with
	// their samples (ON DELETE CASCADE), except the ones retained.Kept
	// keeps.
	pruneCollections = retained.Rows{Table: "collections", Key: "id", Where: "c.started_at < ?1 AND NOT " + retained.Kept}
	// pruneEvents are the events logged before ?1.
	pruneEvents = retained.Rows{Table: "events", Key: "rowid", Where: "c.event_time < ?1"}
	// pruneNotifications are the notification records that are done
	// (sent or failed) and were last updated before ?1; pending and
	// sending ones are kept however old.
	pruneNotifications = retained.Rows{Table: "notifications", Key: "id", Where: "c.status IN ('sent', 'failed') AND c.updated_at < ?1"}
	// pruneAlerts are the alert states not firing that were last updated
	// before ?1; a firing alert is kept however old.
	pruneAlerts = retained.Rows{Table: "alerts", Key: "host_id, rule_id", Where: "c.firing = 0 AND c.updated_at < ?1"}
)
