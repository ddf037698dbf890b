-- The collectors of a cluster (see migrations/sqlite/0006_cluster_members.sql).
CREATE TABLE cluster_members (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    host       TEXT COLLATE "C" NOT NULL,
    pid        INTEGER          NOT NULL,
    sites      TEXT COLLATE "C" NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    seen_at    TEXT COLLATE "C" NOT NULL,
    slot_at    TEXT COLLATE "C" NOT NULL DEFAULT '',
    collected  INTEGER          NOT NULL DEFAULT 0,
    failed     INTEGER          NOT NULL DEFAULT 0
);
