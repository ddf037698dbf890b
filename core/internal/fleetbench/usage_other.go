//go:build !linux

package fleetbench

import (
	"errors"
	"runtime"
	"time"
)

func processUsage() (Usage, error) {
	return Usage{}, errors.New("process CPU accounting is implemented on Linux only (" + runtime.GOOS + ")")
}

func currentRSS() (int64, error) { return 0, errors.New("current RSS is Linux only") }

func openFDs() (int, error) { return 0, errors.New("counting open file descriptors is Linux only") }

func resetPeakRSS() error { return errors.New("peak RSS reset is Linux only") }

func machineBusy() (time.Duration, error) {
	return 0, errors.New("machine CPU accounting is Linux only")
}
