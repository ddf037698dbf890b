package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// newFileMode is the mode of a database file the store creates: the rounds
// are the fleet's inventory, readable by the collector's user alone, like
// everything else in its data directory. SQLite gives the -wal and -shm
// files the database file's mode. An existing file keeps its mode: the
// operator chose it, e.g. 0640 for a reading application's group.
const newFileMode fs.FileMode = 0o600

// prepareFiles creates the database file at path with newFileMode when it
// does not exist, and gives its -wal and -shm files the database file's
// permissions when theirs differ. SQLite creates those files with the
// database's mode of the moment: after the database was read-only once,
// they stay read-only when the operator makes the database writable
// again, and every write then fails with "attempt to write a readonly
// database". Aligning them is what SQLite would have done had it created
// them now.
func prepareFiles(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, newFileMode)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create sqlite database %s (check that the directory exists and is writable): %w", path, err)
	}
	db, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	want := db.Mode().Perm()
	for _, suffix := range []string{"-wal", "-shm"} { // WAL mode's files

		side, err := os.Stat(path + suffix)
		if err != nil || side.Mode().Perm() == want {
			continue // none, or as SQLite would make it
		}
		if err := os.Chmod(path+suffix, want); err != nil {
			return fmt.Errorf("sqlite database %s: its %s file has mode %o, the database %o; make it the same (chmod %o %s%s): %w",
				path, suffix, side.Mode().Perm(), want, want, path, suffix, err)
		}
	}
	return nil
}
