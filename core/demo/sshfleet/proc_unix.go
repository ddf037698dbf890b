//go:build unix

package sshfleet

import (
	"context"
	"os"
	"os/exec"
	"syscall"
)

// shellCommand runs command with `shell -c` in its own process group, so
// cancelling ctx kills the command and everything it started.
func shellCommand(ctx context.Context, shell, command string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, shell, "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return cmd
}

// killLeftovers kills what the command left running in its process group
// (background children) once the command itself has exited.
func killLeftovers(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// exitSignal reports the SSH name of the signal that ended the process.
func exitSignal(state *os.ProcessState) (string, bool) {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	switch ws.Signal() {
	case syscall.SIGABRT:
		return "ABRT", true
	case syscall.SIGALRM:
		return "ALRM", true
	case syscall.SIGFPE:
		return "FPE", true
	case syscall.SIGHUP:
		return "HUP", true
	case syscall.SIGILL:
		return "ILL", true
	case syscall.SIGINT:
		return "INT", true
	case syscall.SIGKILL:
		return "KILL", true
	case syscall.SIGPIPE:
		return "PIPE", true
	case syscall.SIGQUIT:
		return "QUIT", true
	case syscall.SIGSEGV:
		return "SEGV", true
	case syscall.SIGTERM:
		return "TERM", true
	case syscall.SIGUSR1:
		return "USR1", true
	case syscall.SIGUSR2:
		return "USR2", true
	default:
		// RFC 4254 allows local names of the form "name@domain".
		return "SIG" + ws.Signal().String() + "@cscs", true
	}
}
