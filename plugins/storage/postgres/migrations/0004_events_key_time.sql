-- 0004_events_key_time: an event is named by its host, channel, record id
-- and time. When a Windows event log is cleared its record ids start again
-- at 1, so a record id alone no longer names one event: the records of the
-- new log are other events and are stored beside the old ones. A record
-- that comes again (a replayed round, an overlapping read) has the same
-- time and is still stored once.
--
-- The same key as the SQLite schema (which rebuilds its table for it).
-- Do not edit a released migration: add a new numbered file instead.

ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (host_id, channel, record_id, event_time);
