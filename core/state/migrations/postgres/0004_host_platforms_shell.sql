-- The login shell's kind (see migrations/sqlite/0004_host_platforms_shell.sql).
ALTER TABLE host_platforms ADD COLUMN shell TEXT COLLATE "C" NOT NULL DEFAULT '';
