-- The counters each host reported in its latest round, as a JSON object
-- (see migrations/sqlite/0005_host_counters.sql). A row is replaced whole.
CREATE TABLE host_counters (
    host_ip    TEXT COLLATE "C" NOT NULL,
    host_port  INTEGER          NOT NULL,
    counters   TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (host_ip, host_port)
);
