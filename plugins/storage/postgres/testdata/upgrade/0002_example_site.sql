-- A test-only migration, never embedded: it gives the upgrade harness a
-- version 1 database holding data to upgrade, as a real 0002 would.
ALTER TABLE hosts ADD COLUMN site text;
CREATE INDEX hosts_site ON hosts (site);
