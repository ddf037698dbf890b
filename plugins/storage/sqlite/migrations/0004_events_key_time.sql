-- 0004_events_key_time: an event is named by its host, channel, record id
-- and time. When a Windows event log is cleared its record ids start again
-- at 1, so a record id alone no longer names one event: the records of the
-- new log are other events and are stored beside the old ones. A record
-- that comes again (a replayed round, an overlapping read) has the same
-- time and is still stored once.
--
-- SQLite cannot change a primary key, so the table is rebuilt: the same
-- columns, constraint and indexes as 0003_events, every row kept.
-- Do not edit a released migration: add a new numbered file instead.

CREATE TABLE events_new (
    host_id       INTEGER NOT NULL REFERENCES hosts (id),
    channel       TEXT    NOT NULL,
    record_id     INTEGER NOT NULL,
    collection_id INTEGER REFERENCES collections (id) ON DELETE SET NULL,
    event_time    TEXT    NOT NULL,
    level         TEXT,
    provider      TEXT,
    event_id      INTEGER NOT NULL DEFAULT 0,
    computer      TEXT,
    message       TEXT,
    fields        TEXT    NOT NULL DEFAULT '{}' CONSTRAINT events_fields_object CHECK (json_type(fields) = 'object'),
    PRIMARY KEY (host_id, channel, record_id, event_time)
);

INSERT INTO events_new (host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields)
SELECT host_id, channel, record_id, collection_id, event_time, level, provider, event_id, computer, message, fields
FROM events;

DROP TABLE events;

ALTER TABLE events_new RENAME TO events;

-- A host's events in time order ("its last 50 events").
CREATE INDEX events_host_time ON events (host_id, event_time);
-- One event id in a time window ("failed logons, 4625, of the last day").
CREATE INDEX events_event_id_time ON events (event_id, event_time);
-- Everything in a time window, and pruning.
CREATE INDEX events_time ON events (event_time);
-- The events a collection brought; keeps ON DELETE SET NULL cheap when
-- collections are pruned.
CREATE INDEX events_collection ON events (collection_id);
