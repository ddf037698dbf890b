package postgres

import (
	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
	"github.com/cscs-dev/cscs/plugins/storage/internal/sqlbatch"
)

// Every SQL statement the PostgreSQL backend writes and prunes with. They
// are SQLite's statements in PostgreSQL's dialect ($N placeholders,
// timestamptz, jsonb, arrays); what they store must stay the same on both.

// upsertHostSQL inserts or updates a host and returns its id. A retried
// older round never moves last_seen, last_status or last_ok_at back.
const upsertHostSQL = `
INSERT INTO hosts (ip, port, hostname, os, arch, agent_version, first_seen, last_seen, last_status, last_ok_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)` + sqlbatch.HostConflict + `
RETURNING id`

// upsertCollectionSQL inserts or rewrites the collection of a host in a
// round and returns its id.
const upsertCollectionSQL = `
INSERT INTO collections (round_id, host_id, status, error, started_at, finished_at,
                         connect_ms, detect_ms, upload_ms, exec_ms, total_ms, agent_uploaded, agent_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)` + sqlbatch.CollectionConflict + `
RETURNING id`

const deleteSamplesSQL = `DELETE FROM samples WHERE collection_id = ANY($1)`

// insertEventsSQL stores events given as parallel arrays, each unless its
// host already has one with the same channel, record id and time: a
// replayed round, or a cursor that overlaps the previous round's, stores
// it once, and the first row is kept; a record id reused after the log was
// cleared, with another time, is another event. An event without a time
// from its source ($12) is the newest one stored under its record id, if
// any; otherwise it takes the end of its collection ($5).
const insertEventsSQL = `
INSERT INTO events (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
SELECT e.host_id, e.channel, e.record_id, e.collection_id,
       COALESCE(CASE WHEN e.timeless THEN (SELECT max(x.event_time) FROM events x
                                           WHERE x.host_id = e.host_id AND x.channel = e.channel AND x.record_id = e.record_id) END,
                e.event_time),
       e.level, e.provider, e.event_id, e.computer, e.message, e.fields::jsonb
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::timestamptz[],
            $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[])
     AS e(host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields, timeless)
ON CONFLICT (host_id, channel, record_id, event_time) DO NOTHING`

// ensureHostSQL adds a host that only an alert or a notification names,
// with no other column set; a known host is left as it is (no row lock,
// no new row version). hostIDSQL, a statement of its own, then sees the
// row even when another core inserted it meanwhile.
const (
	ensureHostSQL = `INSERT INTO hosts (ip, port) VALUES ($1, $2) ON CONFLICT (ip, port) DO NOTHING`
	hostIDSQL     = `SELECT id FROM hosts WHERE ip = $1 AND port = $2`
)

// upsertAlertSQL stores the state of a rule on a host unless the stored
// state is newer: a replayed batch never moves an alert back.
const upsertAlertSQL = `
INSERT INTO alerts (host_id, rule_id, type, metric, condition, firing, since, last_notified, last_value, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)` + sqlbatch.AlertConflict

// upsertNotificationSQL stores a notification record unless the stored
// one is newer. Recipients come as JSON text.
const upsertNotificationSQL = `
INSERT INTO notifications (id, kind, host_id, recipients, subject, status, attempts, last_error, created_at, sent_at, updated_at, channel)
VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10, $11, $12)` + sqlbatch.NotificationConflict

// The rows a prune deletes and a preview counts, $1 the cutoff: DELETE and
// COUNT are both made from these conditions (retained.Rows), so that they
// cannot drift apart.
var (
	// pruneCollections are the collections that started before $1, with
	// their samples (ON DELETE CASCADE), except the ones retained.Kept
	// keeps.
	pruneCollections = retained.Rows{Table: "collections", Key: "id", Where: "c.started_at < $1 AND NOT " + retained.Kept}
	// pruneEvents are the events logged before $1.
	pruneEvents = retained.Rows{Table: "events", Key: "host_id, channel, record_id, event_time", Where: "c.event_time < $1"}
	// pruneNotifications are the notification records that are done
	// (sent or failed) and were last updated before $1; pending and
	// sending ones are kept however old.
	pruneNotifications = retained.Rows{Table: "notifications", Key: "id", Where: "c.status IN ('sent', 'failed') AND c.updated_at < $1"}
	// pruneAlerts are the alert states not firing that were last updated
	// before $1; a firing alert is kept however old.
	pruneAlerts = retained.Rows{Table: "alerts", Key: "host_id, rule_id", Where: "NOT c.firing AND c.updated_at < $1"}
)
