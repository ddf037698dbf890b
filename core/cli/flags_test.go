package cli

import (
	"context"
	"strings"
	"testing"
)

// TestRunRejectsBadRoundFlags: a round flag out of range stops `cscs run`
// before anything is read or contacted, with exit 2 and the flag named.
func TestRunRejectsBadRoundFlags(t *testing.T) {
	tests := map[string][]string{
		"--concurrency":    {"--concurrency", "0"},
		"--max-handshakes": {"--max-handshakes", "0"},
		"--max-uploads":    {"--max-uploads", "-3"},
		"--host-timeout":   {"--host-timeout", "0s"},
		"--output":         {"--output", "yaml"},
	}
	for flagName, args := range tests {
		t.Run(flagName, func(t *testing.T) {
			args := append([]string{"run", "--config", "/nonexistent/config.xml", "--data-dir", t.TempDir()}, args...)
			code, _, stderr := runMain(context.Background(), "test", args...)
			if code != ExitBadConfig || !strings.Contains(stderr, flagName) {
				t.Fatalf("exit %d, stderr %q; want %d naming %s", code, stderr, ExitBadConfig, flagName)
			}
		})
	}
}
