-- The counters each host reported in its latest round (network bytes,
-- packets, errors and drops), from which the next round computes rates
-- per second: one row per host, its counters as a JSON object keyed by
-- metric and labels (`net.rx_bytes_per_second{interface="eth0"}`), each
-- with its total, the time it was read and the host's boot time. A row
-- is replaced whole, so a counter the host no longer reports goes.
CREATE TABLE host_counters (
    host_ip    TEXT    NOT NULL,
    host_port  INTEGER NOT NULL,
    counters   TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (host_ip, host_port)
);
