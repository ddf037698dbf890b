package pipeline

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/cscs-dev/cscs/plugins"
)

// DisplayName names db in messages: a DSN without its credentials, or the
// SQLite path.
func DisplayName(db string) string {
	d, err := plugins.DatabaseStorage(db)
	if err != nil {
		return db
	}
	return d.Display
}

// builtinDB picks the built-in storage for db and its configuration, and
// names its spool: the plugin's name and a short hash of the database's
// key (the SQLite file's absolute path, or the DSN without its
// credentials), so each database keeps its own rounds.
func builtinDB(db string) (name string, config []byte, spool string, err error) {
	d, err := plugins.DatabaseStorage(db)
	if err != nil {
		return "", nil, "", err
	}
	sum := sha256.Sum256([]byte(d.Key))
	return d.Plugin, d.Config, d.Plugin + "-" + hex.EncodeToString(sum[:6]), nil
}
