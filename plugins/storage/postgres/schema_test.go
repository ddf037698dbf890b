package postgres

import (
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// TestDescribeDeclaresTheConfig checks the declared schema against Config
// and Open: the same keys and types, the DSN required and sensitive (it
// may hold a password), and Open refusing a configuration without it.
func TestDescribeDeclaresTheConfig(t *testing.T) {
	cfg := storagetest.DeclaredConfig(t, &Plugin{}, Config{})
	want := map[string]struct{ required, sensitive bool }{
		"dsn":       {required: true, sensitive: true},
		"retention": {},
	}
	for name, w := range want {
		a, ok := cfg.Lookup(name)
		if !ok || a.Required != w.required || a.Sensitive != w.sensitive {
			t.Errorf("attribute %q = %+v (declared %t), want required %t, sensitive %t", name, a, ok, w.required, w.sensitive)
		}
	}
	err := (&Plugin{}).Open(t.Context(), []byte(`{"retention": "90d"}`))
	if err == nil || !strings.Contains(err.Error(), `"dsn" is required`) {
		t.Errorf("Open without the required dsn = %v", err)
	}
}
