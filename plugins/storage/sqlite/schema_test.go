package sqlite

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// TestDescribeDeclaresTheConfig checks the declared schema against Config
// and Open: the same keys and types, and required exactly where Open
// refuses a configuration without the key.
func TestDescribeDeclaresTheConfig(t *testing.T) {
	cfg := storagetest.DeclaredConfig(t, &Plugin{}, Config{})

	full := map[string]string{"path": filepath.Join(t.TempDir(), "cscs.db"), "retention": "90d"}
	for _, a := range cfg.Attributes {
		t.Run(a.Name, func(t *testing.T) {
			cfg := map[string]string{}
			for k, v := range full {
				if k != a.Name {
					cfg[k] = v
				}
			}
			raw, _ := json.Marshal(cfg)
			p := &Plugin{}
			err := p.Open(t.Context(), raw)
			_ = p.Close(t.Context())
			switch {
			case a.Required && (err == nil || !strings.Contains(err.Error(), `"`+a.Name+`"`)):
				t.Errorf("%s is declared required, but Open without it = %v", a.Name, err)
			case !a.Required && err != nil:
				t.Errorf("%s is declared optional, but Open without it: %v", a.Name, err)
			}
		})
	}
	if a, _ := cfg.Lookup("path"); !a.Required {
		t.Error(`"path" must be declared required`)
	}
}
