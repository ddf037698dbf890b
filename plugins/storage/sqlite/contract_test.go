package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// contractDatabase is a fresh database file for the storagetest contract,
// with the given migrations.
func contractDatabase(t *testing.T, migrations []migration) storagetest.Database {
	path := filepath.Join(t.TempDir(), "contract.db")
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return storagetest.Database{
		SQL: db,
		Open: func(ctx context.Context, retention string) (storage.Storage, error) {
			return storagetest.OpenPlugin(ctx, &Plugin{Version: "test"}, Config{Path: path, Retention: retention})
		},
		Versions: len(migrations),
		MigrateTo: func(ctx context.Context, version int) error {
			return migrate(ctx, db, migrations[:version])
		},
	}
}

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Database {
		return contractDatabase(t, storagetest.Migrations(t, migrationFiles, migrationDir))
	})
}
