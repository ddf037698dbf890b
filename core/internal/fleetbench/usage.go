package fleetbench

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
)

// Usage is what the process spent: its own CPU, that of the children it
// waited for (plugin processes), and peak resident memory.
type Usage struct {
	SelfCPU     time.Duration
	ChildrenCPU time.Duration
	// PeakRSS is this process's resident-set high-water mark in bytes.
	PeakRSS int64
	// ChildPeakRSS is the largest waited-for child's peak RSS in bytes.
	ChildPeakRSS int64
}

// Sample is one measured run.
type Sample struct {
	Wall time.Duration
	// CPU is core CPU: this process plus waited-for children.
	CPU time.Duration
	// PeakRSS is the core process's peak RSS during the run, in bytes
	// (0 where the platform cannot reset the high-water mark).
	PeakRSS      int64
	ChildPeakRSS int64
	// MachineCPU is the busy CPU time of the whole machine (every core,
	// every process: the simulated hosts too) during the run; 0 where the
	// platform does not tell.
	MachineCPU time.Duration
}

// Measure runs fn and returns its wall time, the CPU this process and its
// waited-for children spent meanwhile, and the peak RSS reached during fn.
// It collects garbage and resets the RSS high-water mark first so earlier
// runs do not count.
func Measure(fn func() error) (Sample, error) {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeak := resetPeakRSS() == nil
	before, err := processUsage()
	if err != nil {
		return Sample{}, err
	}
	machineBefore, machineErr := machineBusy()
	start := time.Now()
	if err := fn(); err != nil {
		return Sample{}, err
	}
	wall := time.Since(start)
	machineAfter, machineErrAfter := machineBusy()
	after, err := processUsage()
	if err != nil {
		return Sample{}, err
	}
	s := Sample{
		Wall:         wall,
		CPU:          (after.SelfCPU - before.SelfCPU) + (after.ChildrenCPU - before.ChildrenCPU),
		ChildPeakRSS: after.ChildPeakRSS,
	}
	if machineErr == nil && machineErrAfter == nil {
		s.MachineCPU = machineAfter - machineBefore
	}
	if resetPeak {
		s.PeakRSS = after.PeakRSS
	}
	return s, nil
}

// ProcessUsage returns the resources this process has used so far.
func ProcessUsage() (Usage, error) {
	u, err := processUsage()
	if err != nil {
		return Usage{}, fmt.Errorf("read process usage: %w", err)
	}
	return u, nil
}
