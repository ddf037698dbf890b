//go:build windows

package sshfleet

import (
	"errors"
	"syscall"
)

// Winsock error codes; package syscall does not map them to its Errno
// constants.
const (
	wsaEMFILE        = syscall.Errno(10024)
	wsaEADDRINUSE    = syscall.Errno(10048)
	wsaEADDRNOTAVAIL = syscall.Errno(10049)
	wsaENOBUFS       = syscall.Errno(10055)
)

// isAddrInUse reports a bind failure because the port is taken.
func isAddrInUse(err error) bool {
	return errors.Is(err, wsaEADDRINUSE) || errors.Is(err, syscall.EADDRINUSE)
}

// isAddrNotAvail reports a bind failure because no interface has the address.
func isAddrNotAvail(err error) bool {
	return errors.Is(err, wsaEADDRNOTAVAIL) || errors.Is(err, syscall.EADDRNOTAVAIL)
}

// isTooManyFiles reports a failure because socket resources are exhausted.
func isTooManyFiles(err error) bool {
	return errors.Is(err, wsaEMFILE) || errors.Is(err, wsaENOBUFS)
}
