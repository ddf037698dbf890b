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
	plugins.ServeTestBinary(os.Args)
	os.Exit(m.Run())
}
