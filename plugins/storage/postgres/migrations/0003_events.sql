-- 0003_events: the log records of the hosts' event sources (the Windows
-- Security log, the Linux authentication log), one row per host, channel
-- and record id.
--
-- docs/schema.md describes the table. The same table, columns,
-- constraints and indexes as the SQLite schema, in PostgreSQL's native
-- types: timestamptz to the millisecond, and fields as a jsonb object of
-- strings (SQLite: JSON text). record_id holds the source's unsigned
-- 64-bit number as a signed bigint (numbers from 2^63 up read negative).
-- Do not edit a released migration: add a new numbered file instead.

CREATE TABLE events (
    host_id       bigint      NOT NULL REFERENCES hosts (id),
    channel       text        NOT NULL,
    record_id     bigint      NOT NULL,
    collection_id bigint      REFERENCES collections (id) ON DELETE SET NULL,
    event_time    timestamptz NOT NULL,
    level         text,
    provider      text,
    event_id      bigint      NOT NULL DEFAULT 0,
    computer      text,
    message       text,
    fields        jsonb       NOT NULL DEFAULT '{}' CONSTRAINT events_fields_object CHECK (jsonb_typeof(fields) = 'object'),
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
