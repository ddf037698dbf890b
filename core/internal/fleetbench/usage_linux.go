package fleetbench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func processUsage() (Usage, error) {
	var self, kids syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return Usage{}, fmt.Errorf("getrusage self: %w", err)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids); err != nil {
		return Usage{}, fmt.Errorf("getrusage children: %w", err)
	}
	peak, err := vmHWM()
	if err != nil {
		peak = self.Maxrss * 1024
	}
	return Usage{
		SelfCPU:      cpu(self),
		ChildrenCPU:  cpu(kids),
		PeakRSS:      peak,
		ChildPeakRSS: kids.Maxrss * 1024, // Linux reports kilobytes
	}, nil
}

func cpu(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// resetPeakRSS resets VmHWM (writing 5 to clear_refs, Linux 4.0+).
func resetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	return nil
}

// vmHWM reads the resident-set high-water mark from /proc/self/status.
func vmHWM() (int64, error) { return selfStatusBytes("VmHWM:") }

// currentRSS is the resident set size of this process now, in bytes.
func currentRSS() (int64, error) { return selfStatusBytes("VmRSS:") }

// openFDs is how many file descriptors this process has open, from
// /proc/self/fd; the descriptor of that listing itself is not counted.
func openFDs() (int, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, fmt.Errorf("count open file descriptors: %w", err)
	}
	return len(entries) - 1, nil
}

// selfStatusBytes reads the field (such as "VmRSS:") of /proc/self/status.
func selfStatusBytes(field string) (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	return parseStatusBytes(data, field)
}

func parseVMHWM(status []byte) (int64, error) { return parseStatusBytes(status, "VmHWM:") }

// parseStatusBytes finds the line of field in a /proc/<pid>/status text
// and returns its figure, given in kB, in bytes.
func parseStatusBytes(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == field {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s %q: %w", field, f[1], err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s line in /proc/self/status", field)
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// machineBusy is the CPU time every core of the machine has spent not
// idle since boot, from the first line of /proc/stat.
func machineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	return parseMachineBusy(data)
}

// parseMachineBusy sums the "cpu" line's user, nice, system, irq, softirq
// and steal ticks (idle and iowait are not busy; guest time is already in
// user).
func parseMachineBusy(stat []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("/proc/stat does not start with a cpu line of 8 figures: %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat cpu line, field %d: %w", i, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
