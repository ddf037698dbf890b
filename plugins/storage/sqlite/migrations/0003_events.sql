-- 0003_events: the log records of the hosts' event sources (the Windows
-- Security log, the Linux authentication log), one row per host, channel
-- and record id.
--
-- docs/schema.md describes the table. Conventions as in 0001_init:
-- timestamps are TEXT in UTC, ISO-8601 with milliseconds; missing text is
-- NULL. record_id holds the source's unsigned 64-bit number as a signed
-- 64-bit integer (numbers from 2^63 up read negative); fields is a JSON
-- object of strings.
-- Do not edit a released migration: add a new numbered file instead.

CREATE TABLE events (
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
    PRIMARY KEY (host_id, channel, record_id)
);

-- A host's events in time order ("its last 50 events").
CREATE INDEX events_host_time ON events (host_id, event_time);
-- One event id in a time window ("failed logons, 4625, of the last day").
CREATE INDEX events_event_id_time ON events (event_id, event_time);
-- Everything in a time window, and pruning.
CREATE INDEX events_time ON events (event_time);
-- The events a collection brought; keeps ON DELETE SET NULL cheap when
-- collections are pruned.
CREATE INDEX events_collection ON events (collection_id);
