//go:build !unix

package extmod

import (
	"os"
	"syscall"
)

// sysProcAttr asks for nothing special. Only Unix has process groups a
// kill reaches; on Windows killing a module's children would need a job
// object.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// kill kills the module's process.
func kill(proc *os.Process) error { return proc.Kill() }

// killLeftovers does nothing; see sysProcAttr.
func killLeftovers(*os.Process) {}
