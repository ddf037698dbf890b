-- The collectors of a cluster (`cscs serve --cluster`, docs/scaling.md):
-- one row per instance, written by the instance itself. seen_at is its
-- latest heartbeat; slot_at the start of the latest interval it
-- collected in, and collected/failed the hosts it collected in that
-- interval (failed: not ok). sites lists the overlay groups it works,
-- comma-separated, '' for the hosts of no site. SQLite states never
-- hold a cluster; the table keeps both engines' schemas alike.
CREATE TABLE cluster_members (
    id         TEXT    NOT NULL PRIMARY KEY,
    host       TEXT    NOT NULL,
    pid        INTEGER NOT NULL,
    sites      TEXT    NOT NULL,
    started_at TEXT    NOT NULL,
    seen_at    TEXT    NOT NULL,
    slot_at    TEXT    NOT NULL DEFAULT '',
    collected  INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0
);
