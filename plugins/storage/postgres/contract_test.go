package postgres

import (
	"context"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// contractDatabase is a fresh schema for the storagetest contract, with
// the given migrations.
func contractDatabase(t *testing.T, migrations []migration) storagetest.Database {
	dsn, db := newSchema(t)
	migrator := openStore(t, dsn)
	return storagetest.Database{
		SQL: db,
		Open: func(ctx context.Context, retention string) (storage.Storage, error) {
			return storagetest.OpenPlugin(ctx, &Plugin{Version: "test"}, Config{DSN: dsn, Retention: retention})
		},
		Versions: len(migrations),
		MigrateTo: func(ctx context.Context, version int) error {
			return migrate(ctx, migrator.pool, migrations[:version])
		},
	}
}

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Database {
		return contractDatabase(t, storagetest.Migrations(t, migrationFiles, migrationDir))
	})
}
