//go:build !unix

package main

import "os"

// stopSignals are the signals that stop the agent (see stopOnSignals):
// on Windows, the console's Ctrl-C and Ctrl-Break (os.Interrupt).
func stopSignals() []os.Signal { return []os.Signal{os.Interrupt} }
