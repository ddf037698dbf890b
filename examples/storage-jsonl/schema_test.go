package main

import (
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestDescribeDeclaresTheConfig checks the declared schema against Config
// and parseConfig: the same keys and types, and "path" required as
// parseConfig requires it.
func TestDescribeDeclaresTheConfig(t *testing.T) {
	t.Parallel()
	d, err := sdktest.Storage(t, &Store{}).Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	sdktest.SchemaMatchesStruct(t, d.Config, Config{})
	if a, _ := d.Config.Lookup("path"); !a.Required {
		t.Error(`"path" must be declared required`)
	}
	if _, err := parseConfig([]byte(`{}`)); err == nil || !strings.Contains(err.Error(), `"path" is missing`) {
		t.Errorf("parseConfig without path = %v", err)
	}
}
