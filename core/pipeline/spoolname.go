package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/cscs-dev/cscs/plugins/storage/postgres"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
)

// DisplayName names db in messages: a DSN without its credentials, or the
// SQLite path.
func DisplayName(db string) string {
	if IsPostgres(db) {
		return postgres.DisplayName(db)
	}
	return db
}

// IsPostgres reports whether db names a PostgreSQL database (a DSN).
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// builtinDB picks the built-in storage for db and its configuration, and
// names its spool: "sqlite-" or "postgres-" and a short hash of the
// database's absolute path or of the DSN without its credentials, so each
// database keeps its own rounds.
func builtinDB(db string) (name string, config []byte, spool string, err error) {
	if IsPostgres(db) {
		config, err = json.Marshal(postgres.Config{DSN: db})
		return postgres.Name, config, "postgres-" + shortHash(postgres.DisplayName(db)), err
	}
	config, err = json.Marshal(sqlite.Config{Path: db})
	return sqlite.Name, config, sqliteSpool(db), err
}

// sqliteSpool is the spool of the SQLite database at dbPath.
func sqliteSpool(dbPath string) string {
	if abs, err := filepath.Abs(dbPath); err == nil {
		dbPath = abs
	}
	return "sqlite-" + shortHash(dbPath)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
