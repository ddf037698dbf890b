//go:build !windows

package sshfleet

import (
	"errors"
	"syscall"
)

// isAddrInUse reports a bind failure because the port is taken.
func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// isAddrNotAvail reports a bind failure because no interface has the address.
func isAddrNotAvail(err error) bool { return errors.Is(err, syscall.EADDRNOTAVAIL) }

// isTooManyFiles reports a failure because the open-file limit is reached.
func isTooManyFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
