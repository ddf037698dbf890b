package sqlbatch

// The ON CONFLICT clauses of the SQL storages' upserts, in SQL that SQLite
// and PostgreSQL both read: which of two rows with one key is kept must be
// the same on both backends, so it is written once. Each backend puts its
// own INSERT, in its own dialect, before them.
const (
	// HostConflict updates a known host. A retried older round never moves
	// last_seen, last_status or last_ok_at back.
	HostConflict = `
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

	// CollectionConflict rewrites the collection of a host in a round.
	CollectionConflict = `
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

	// AlertConflict stores the state of a rule on a host unless the stored
	// state is newer: a replayed batch never moves an alert back.
	AlertConflict = `
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

	// NotificationConflict stores a notification record unless the stored
	// one is newer.
	NotificationConflict = `
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
)
