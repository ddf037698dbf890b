package postgres

import (
	"context"
	"encoding/json"
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
			cfg, err := json.Marshal(Config{DSN: dsn, Retention: retention})
			if err != nil {
				return nil, err
			}
			p := &Plugin{Version: "test"}
			if err := p.Open(ctx, cfg); err != nil {
				return nil, err
			}
			return p, nil
		},
		Versions: len(migrations),
		MigrateTo: func(ctx context.Context, version int) error {
			return migrate(ctx, migrator.pool, migrations[:version])
		},
	}
}

func embeddedMigrations(t testing.TB) []migration {
	t.Helper()
	ms, err := loadMigrations(migrationFiles, migrationDir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Database {
		return contractDatabase(t, embeddedMigrations(t))
	})
}
