package cli

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for cscs when the core re-executes
// itself to serve a built-in plugin (`<binary> plugin serve <kind> <name>`),
// so rounds in these tests run their built-ins out of process as in
// production.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		os.Exit(Main(context.Background(), os.Args[1:], "test", os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
