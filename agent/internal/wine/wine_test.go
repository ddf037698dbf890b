package wine

import (
	"os"
	"runtime"
	"testing"
)

// TestRunning: under `make test-windows` (CSCS_WINE=1) the tests run
// under Wine, and Running must say so.
func TestRunning(t *testing.T) {
	inWine := os.Getenv(Env) == "1"
	if got := Running(); got != inWine && !(runtime.GOOS == "windows" && got) {
		t.Errorf("Running() = %v with %s=%q on %s", got, Env, os.Getenv(Env), runtime.GOOS)
	}
}
