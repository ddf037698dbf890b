//go:build !unix && !windows

package extmod

import (
	"os"
	"syscall"
)

// sysProcAttr asks for nothing special: this system offers no way to kill
// what a module started along with it.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// tree is a started module; only the module itself can be killed here.
type tree struct{ proc *os.Process }

func newTree(proc *os.Process) (tree, error) { return tree{proc: proc}, nil }

// kill kills the module's process.
func (t tree) kill() error { return t.proc.Kill() }

// killed says what kill kills, for an error message.
func (tree) killed() string { return "it" }

// close does nothing; see sysProcAttr.
func (tree) close() {}
