//go:build windows

package sshfleet

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

func defaultShell() string {
	if comspec := os.Getenv("ComSpec"); comspec != "" {
		return comspec
	}
	return "cmd.exe"
}

// tempDirVars names the variables that point programs at a temp directory.
func tempDirVars() []string { return []string{"TMP", "TEMP"} }

// shellCommand hands command to the shell verbatim, as Win32-OpenSSH
// does: cmd.exe takes "/C", PowerShell and POSIX shells "-c".
func shellCommand(ctx context.Context, shell, command string) *exec.Cmd {
	flag := "-c"
	if base := strings.ToLower(strings.TrimSuffix(filepath.Base(shell), filepath.Ext(shell))); base == "cmd" {
		flag = "/C"
	}
	cmd := exec.CommandContext(ctx, shell)
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: syscall.EscapeArg(shell) + " " + flag + " " + command}
	return cmd
}

// killLeftovers: children are not tracked on Windows; they keep running.
func killLeftovers(*exec.Cmd) {}

// exitSignal: Windows processes end with an exit code only.
func exitSignal(*os.ProcessState) (string, bool) { return "", false }
