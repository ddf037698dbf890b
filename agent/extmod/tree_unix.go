//go:build unix

package extmod

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr starts the module in a process group of its own, so that
// killing the group also kills what the module started.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// tree is a started module and what it starts: its process group.
type tree struct{ proc *os.Process }

// newTree takes the module started with sysProcAttr's attributes.
func newTree(proc *os.Process) (tree, error) { return tree{proc: proc}, nil }

// kill kills the module's whole process group.
func (t tree) kill() error {
	err := syscall.Kill(-t.proc.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// killed says what kill kills, for an error message.
func (tree) killed() string { return "it and its process group" }

// close kills whatever the module left running in its process group
// after it exited: a module must not leave processes behind.
func (t tree) close() { _ = t.kill() }
