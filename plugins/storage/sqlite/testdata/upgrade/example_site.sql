-- A test-only migration, never embedded: numbered after the embedded ones,
-- it gives the upgrade harness a database at the newest embedded version,
-- holding data, to upgrade, as the next real migration would.
ALTER TABLE hosts ADD COLUMN site TEXT;
CREATE INDEX hosts_site ON hosts (site);
