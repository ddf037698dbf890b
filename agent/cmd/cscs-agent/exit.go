package main

import (
	"errors"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// exitUsage is the status for bad command-line arguments; the core never
// passes any, so this only happens to a person running the agent by hand.
const exitUsage = protocol.ExitBadRequest

// exitError carries the process exit status for an error.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// exitCode returns the exit status for err: its own code if it carries
// one, else 1.
func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
