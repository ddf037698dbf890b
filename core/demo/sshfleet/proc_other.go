//go:build !unix && !windows

package sshfleet

import (
	"context"
	"os"
	"os/exec"
)

// shellCommand runs command with `shell -c`.
func shellCommand(ctx context.Context, shell, command string) *exec.Cmd {
	return exec.CommandContext(ctx, shell, "-c", command)
}

// killLeftovers: process groups are not available on this platform.
func killLeftovers(*exec.Cmd) {}

// exitSignal: signals are not reported on this platform.
func exitSignal(*os.ProcessState) (string, bool) { return "", false }
