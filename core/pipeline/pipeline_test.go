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

	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestMain lets the test binary serve the built-in plugins when the
// pipeline re-executes it as cscs (`<binary> plugin serve <kind> <name>`).
func TestMain(m *testing.M) {
	plugins.ServeTestBinary(os.Args)
	os.Exit(m.Run())
}

// TestMaintenance: Migrate and Prune reach a storage in process and out
// of process alike; a storage without them is opened and closed by
// Migrate and refused by Prune with ErrUnsupported and a fix.
func TestMaintenance(t *testing.T) {
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
			if _, err := Prune(ctx, opts, "sqlite", config, time.Now()); err == nil || !strings.Contains(err.Error(), "no database at") {
				t.Errorf("Prune before Migrate: %v; want no database", err)
			}
			m, err := Migrate(ctx, opts, "sqlite", config)
			if err != nil || m.Target != path || m.SchemaVersion < 5 {
				t.Fatalf("Migrate = %+v, %v", m, err)
			}
			p, err := Prune(ctx, opts, "sqlite", config, time.Now())
			if err != nil || p.Target != path {
				t.Errorf("Prune = %+v, %v", p, err)
			}
		})
	}

	t.Run("a storage without them", func(t *testing.T) {
		bin := sdktest.Build(t, "github.com/cscs-dev/cscs/examples/storage-jsonl")
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		opts := Options{Version: "test", Declared: []Declared{{Kind: "storage", Name: "jsonl", Path: bin, SHA256: hex.EncodeToString(sum[:])}}}
		out := filepath.Join(t.TempDir(), "rounds.jsonl")
		config, _ := json.Marshal(map[string]string{"path": out})
		m, err := Migrate(ctx, opts, "jsonl", config)
		if err != nil || m != (storage.Migration{}) {
			t.Errorf("Migrate = %+v, %v; want the storage opened and closed", m, err)
		}
		_, err = Prune(ctx, opts, "jsonl", config, time.Now())
		if !errors.Is(err, storage.ErrUnsupported) || !strings.Contains(err.Error(), "set its own retention") {
			t.Errorf("Prune = %v; want ErrUnsupported with a fix", err)
		}
	})
}
