package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestDescribeDeclaresTheConfig checks the declared schema against Config
// and parseConfig: the same keys and types; the URL and headers, which may
// hold credentials, sensitive; required exactly where parseConfig refuses
// a configuration without the key.
func TestDescribeDeclaresTheConfig(t *testing.T) {
	t.Parallel()
	d, err := sdktest.Notifier(t, &Notifier{}).Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	sdktest.SchemaMatchesStruct(t, d.Config, Config{})
	for _, name := range []string{"url", "headers"} {
		if a, _ := d.Config.Lookup(name); !a.Sensitive {
			t.Errorf("%q may hold credentials: declare it sensitive", name)
		}
	}
	full := map[string]any{"url": "https://hooks.example.com/cscs", "timeout": "5s", "headers": map[string]string{"X-Team": "ops"}}
	for _, a := range d.Config.Attributes {
		cfg := map[string]any{}
		for k, v := range full {
			if k != a.Name {
				cfg[k] = v
			}
		}
		raw, _ := json.Marshal(cfg)
		_, err := parseConfig(raw)
		switch {
		case a.Required && (err == nil || !strings.Contains(err.Error(), `"`+a.Name+`"`)):
			t.Errorf("%s is declared required, but a configuration without it gives %v", a.Name, err)
		case !a.Required && err != nil:
			t.Errorf("%s is declared optional, but a configuration without it is refused: %v", a.Name, err)
		}
	}
}
