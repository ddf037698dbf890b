package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestPrunePreview: PrunePreview reaches a storage in process and out of
// process (the PrunePreview RPC) alike; a storage without it is refused
// with ErrUnsupported and left alone, never pruned.
func TestPrunePreview(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugins")
	}
	ctx := t.Context()
	for name, inProcess := range map[string]bool{"in process": true, "out of process": false} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cscs.db")
			config, err := json.Marshal(map[string]string{"path": path})
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Version: "test", InProcess: inProcess}
			if _, err := PrunePreview(ctx, opts, "sqlite", config, time.Now()); err == nil || !strings.Contains(err.Error(), "no database at") {
				t.Errorf("PrunePreview before Migrate: %v; want no database", err)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("PrunePreview created the database")
			}
			if _, err := Migrate(ctx, opts, "sqlite", config); err != nil {
				t.Fatal(err)
			}
			p, err := PrunePreview(ctx, opts, "sqlite", config, time.Now())
			if err != nil || p != (storage.Pruned{Target: path}) {
				t.Errorf("PrunePreview = %+v, %v; want nothing to delete from %s", p, err, path)
			}
		})
	}

	t.Run("a storage without it", func(t *testing.T) {
		bin := sdktest.Build(t, "github.com/cscs-dev/cscs/examples/storage-jsonl")
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		opts := Options{Version: "test", Declared: []Declared{{Kind: "storage", Name: "jsonl", Path: bin, SHA256: hex.EncodeToString(sum[:])}}}
		out := filepath.Join(t.TempDir(), "rounds.jsonl")
		config, _ := json.Marshal(map[string]string{"path": out})
		_, err = PrunePreview(ctx, opts, "jsonl", config, time.Now())
		if !errors.Is(err, storage.ErrUnsupported) || !strings.Contains(err.Error(), "left alone") {
			t.Errorf("PrunePreview = %v; want ErrUnsupported saying it is left alone", err)
		}
	})
}
