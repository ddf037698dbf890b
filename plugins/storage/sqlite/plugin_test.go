package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// TestFailedAutomaticPruneIsLogged makes the database refuse deletes: the
// round must still be stored and reported stored, and the failure logged.
func TestFailedAutomaticPruneIsLogged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "refuse.db")
	var log bytes.Buffer
	p := &Plugin{Logger: hclog.New(&hclog.LoggerOptions{Output: &log})}
	cfg, _ := json.Marshal(Config{Path: path, Retention: "1h"})
	if err := p.Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	st := p.current()
	if _, err := st.db.Exec(`CREATE TRIGGER refuse_delete BEFORE DELETE ON collections BEGIN SELECT RAISE(ABORT, 'deletes refused by test'); END`); err != nil {
		t.Fatal(err)
	}
	// Straight to the store: the plugin's first write is the one that prunes.
	if err := st.WriteBatch(ctx, storagetest.SyntheticBatch("old", time.Now().Add(-3*time.Hour), 2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBatch(ctx, storagetest.SyntheticBatch("new", time.Now(), 2, 1)); err != nil {
		t.Fatalf("WriteBatch failed because pruning failed: %v", err)
	}
	if n := countRows(t, st.db, "collections"); n != 4 {
		t.Errorf("collections = %d; want 4 (both rounds stored, nothing pruned)", n)
	}
	if !strings.Contains(log.String(), "pruning old collections and events failed") || !strings.Contains(log.String(), "deletes refused by test") {
		t.Errorf("log does not report the failed prune:\n%s", log.String())
	}
}
