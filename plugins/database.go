package plugins

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
)

// Database is the built-in storage that serves a database named on the
// command line (`--db`): a postgres:// or postgresql:// DSN selects
// PostgreSQL, anything else is a SQLite file.
type Database struct {
	// Plugin is the storage plugin's name, Config its configuration.
	Plugin string
	Config []byte
	// Display names the database in messages: the SQLite path, or the
	// DSN without its credentials.
	Display string
	// Key identifies the database among others, without secrets: the
	// SQLite file's absolute path, or Display.
	Key string
}

// DatabaseStorage returns the built-in storage of db.
func DatabaseStorage(db string) (Database, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		config, err := json.Marshal(postgres.Config{DSN: db})
		display := postgres.DisplayName(db)
		return Database{Plugin: postgres.Name, Config: config, Display: display, Key: display}, err
	}
	config, err := json.Marshal(sqlite.Config{Path: db})
	key := db
	if abs, err := filepath.Abs(db); err == nil {
		key = abs
	}
	return Database{Plugin: sqlite.Name, Config: config, Display: db, Key: key}, err
}
