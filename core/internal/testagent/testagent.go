// Package testagent provides the agent binary for the running platform to
// tests: the one `make agents` built when $CSCS_AGENT_DIR points at it,
// else a fresh `go build` into the test's temporary directory.
package testagent

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cscs-dev/cscs/core/agentstore"
)

// Dir returns a directory holding the agent for runtime.GOOS/GOARCH under
// the name agentstore expects.
func Dir(tb testing.TB) string {
	tb.Helper()
	name := agentstore.FileName(runtime.GOOS, runtime.GOARCH)
	if d := os.Getenv(agentstore.EnvDir); d != "" {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return d
		}
	}
	dir := tb.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test",
		"-o", filepath.Join(dir, name), "github.com/cscs-dev/cscs/agent/cmd/cscs-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the agent: %v\n%s", err, out)
	}
	return dir
}
