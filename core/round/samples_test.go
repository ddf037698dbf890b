package round

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestBuiltinPluginFolders: every built-in plugin's folder has a README
// naming each of its settings and metrics (with the metric's unit), and a
// sample.hcl that loads as an overlay exactly as `cscs run --overlay`
// would load it: schemas, metric names and all.
func TestBuiltinPluginFolders(t *testing.T) {
	ctx := context.Background()
	for _, b := range plugins.Builtins() {
		t.Run(b.Kind+"/"+b.Name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "plugins", b.Kind, b.Name)
			readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
			if err != nil {
				t.Fatalf("no README: %v", err)
			}
			settings, metricRows := describeBuiltin(ctx, t, b)
			for _, a := range settings.Attributes {
				if !bytes.Contains(readme, []byte("`"+a.Name+"`")) {
					t.Errorf("README.md does not document the setting `%s`", a.Name)
				}
			}
			for _, m := range metricRows {
				unit := m.Unit
				if unit == metrics.Ratio {
					unit = "ratio"
				}
				row := "| `" + m.Name + "` | " + unit
				if !bytes.Contains(readme, []byte(row)) {
					t.Errorf("README.md has no metrics row starting %q", row)
				}
			}

			sample := filepath.Join(dir, "sample.hcl")
			if _, err := os.Stat(sample); err != nil {
				t.Fatalf("no sample configuration: %v", err)
			}
			var diags bytes.Buffer
			env := func(name string) (string, bool) {
				return "postgres://cscs@db.example:5432/" + strings.ToLower(name), true
			}
			if _, err := Load(ctx, Files{Overlays: []string{sample}}, LoadOptions{Version: "test", Env: env}, &diags); err != nil {
				t.Fatalf("%s does not load: %v\n%s", sample, err, diags.String())
			}
			if strings.Contains(diags.String(), "arning") {
				t.Errorf("%s loads with warnings:\n%s", sample, diags.String())
			}
		})
	}
}

// describeBuiltin returns the settings schema and metrics built-in b
// declares.
func describeBuiltin(ctx context.Context, t *testing.T, b plugins.Builtin) (schema.Schema, []metrics.Metric) {
	t.Helper()
	switch impl := b.New("test").(type) {
	case source.Source:
		d, err := impl.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d.Settings, metrics.Of(b.Name)
	case storage.Storage:
		d, err := impl.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d.Config, nil
	case notifier.Notifier:
		d, err := impl.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d.Config, nil
	}
	t.Fatalf("built-in %s %s is none of the three kinds", b.Kind, b.Name)
	return schema.Schema{}, nil
}
