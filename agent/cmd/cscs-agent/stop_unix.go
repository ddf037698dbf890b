//go:build unix

package main

import (
	"os"
	"syscall"
)

// stopSignals are the signals that stop the agent (see stopOnSignals).
func stopSignals() []os.Signal {
	return []os.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT}
}
