-- The login shell's kind (transport.Platform.Shell): "posix" when a POSIX
-- host's login shell reads the cached round's command without /bin/sh;
-- empty for other login shells, and for rows stored before it was told
-- (they keep the /bin/sh path until the host is detected again).
ALTER TABLE host_platforms ADD COLUMN shell TEXT NOT NULL DEFAULT '';
