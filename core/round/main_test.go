package round

import (
	"os"
	"testing"

	"github.com/cscs-dev/cscs/plugins"
)

// TestMain lets the test binary serve the built-in plugins when a test
// starts them out of process, as a round of cscs does (the pipeline
// re-executes the binary as `<binary> plugin serve <kind> <name>`).
func TestMain(m *testing.M) {
	if len(os.Args) == 5 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		if err := plugins.Serve(os.Args[3], os.Args[4], "test"); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
