package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// SpoolName keeps the rounds of each SQLite database apart: "sqlite-" and a
// short hash of the database's absolute path.
func SpoolName(dbPath string) string {
	if abs, err := filepath.Abs(dbPath); err == nil {
		dbPath = abs
	}
	sum := sha256.Sum256([]byte(dbPath))
	return "sqlite-" + hex.EncodeToString(sum[:6])
}
