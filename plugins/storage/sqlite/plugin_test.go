package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestFailedAutomaticPruneIsLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "refuse.db")
	db := openStore(t, path).db // a second handle on the file, for the test's SQL
	storagetest.FailedAutomaticPruneIsLogged(t, storagetest.FailedPrune{
		Open: func(ctx context.Context, logger hclog.Logger) (storage.Storage, storagetest.Store, error) {
			p := &Plugin{Logger: logger}
			_, err := storagetest.OpenPlugin(ctx, p, Config{Path: path, Retention: "1h"})
			return p, p.current(), err
		},
		SQL:           db,
		RefuseDeletes: `CREATE TRIGGER refuse_delete BEFORE DELETE ON collections BEGIN SELECT RAISE(ABORT, 'deletes refused by test'); END`,
	})
}
