// Package procfs reads the few Linux /proc files the agent's built-in
// modules need: /proc/stat, /proc/meminfo, /proc/uptime and /proc/loadavg.
// The parsers take the file's bytes, so they are tested on recorded files
// on every operating system; only the modules' _linux.go files read /proc.
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// The files the modules read.
const (
	StatPath    = "/proc/stat"
	MeminfoPath = "/proc/meminfo"
	UptimePath  = "/proc/uptime"
	LoadavgPath = "/proc/loadavg"
)

// Read parses the file at path with parse.
func Read[T any](path string, parse func([]byte) (T, error)) (T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := parse(b)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// CPUTimes are the counters of one "cpu" line of /proc/stat, in clock
// ticks since boot. Kernels before 2.6.33 have fewer columns; the missing
// ones are zero.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal, Guest, GuestNice uint64
}

// Stat is what the agent takes from /proc/stat.
type Stat struct {
	// All is the "cpu" line: every CPU together.
	All CPUTimes
	// CPUs is the number of "cpuN" lines: the CPUs online when the file
	// was made.
	CPUs int
}

// ParseStat parses /proc/stat.
func ParseStat(b []byte) (Stat, error) {
	var s Stat
	found := false
	for line := range bytes.Lines(b) {
		fields := bytes.Fields(line)
		if len(fields) == 0 || !bytes.HasPrefix(fields[0], []byte("cpu")) {
			continue
		}
		if len(fields[0]) > len("cpu") {
			s.CPUs++
			continue
		}
		if found {
			return Stat{}, errors.New(`two "cpu" lines`)
		}
		t, err := parseCPUTimes(fields[1:])
		if err != nil {
			return Stat{}, err
		}
		s.All, found = t, true
	}
	if !found {
		return Stat{}, errors.New(`no "cpu" line`)
	}
	return s, nil
}

// parseCPUTimes parses the counters after "cpu": at least user, nice,
// system and idle (every 2.6 kernel has them).
func parseCPUTimes(fields [][]byte) (CPUTimes, error) {
	var t CPUTimes
	dst := []*uint64{&t.User, &t.Nice, &t.System, &t.Idle, &t.IOWait, &t.IRQ, &t.SoftIRQ, &t.Steal, &t.Guest, &t.GuestNice}
	if len(fields) < 4 {
		return CPUTimes{}, fmt.Errorf(`"cpu" line has %d counters, want at least 4`, len(fields))
	}
	for i, f := range fields[:min(len(fields), len(dst))] {
		v, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf(`"cpu" line: %w`, err)
		}
		*dst[i] = v
	}
	return t, nil
}

// total is all the time counted, guest time once: Linux counts it in user
// and nice as well as in guest and guest_nice.
func (t CPUTimes) total() float64 {
	return float64(t.User) + float64(t.Nice) + float64(t.System) + float64(t.Idle) +
		float64(t.IOWait) + float64(t.IRQ) + float64(t.SoftIRQ) + float64(t.Steal)
}

// busy is the time neither idle nor waiting for I/O.
func (t CPUTimes) busy() float64 { return t.total() - float64(t.Idle) - float64(t.IOWait) }

// BusyPercent is the share of time busy between two samples, 0..100: 0
// when busy time did not grow, 100 when busy time grew but total time did
// not (counters can step back, for instance when a CPU goes offline).
func BusyPercent(before, after CPUTimes) float64 {
	busy := after.busy() - before.busy()
	if busy <= 0 {
		return 0
	}
	total := after.total() - before.total()
	if total <= 0 {
		return 100
	}
	return min(100, max(0, busy/total*100))
}

// Meminfo is what the agent takes from /proc/meminfo, in bytes.
type Meminfo struct {
	MemTotal, MemFree, MemAvailable, Buffers, Cached, SReclaimable uint64
	SwapTotal, SwapFree                                            uint64
	// HasMemAvailable tells whether the kernel reports MemAvailable
	// (Linux 3.14 and later).
	HasMemAvailable bool
}

// ParseMeminfo parses /proc/meminfo. Values are in kB (KiB) there; lines
// the agent does not use are skipped, missing ones are zero, but MemTotal
// is required.
func ParseMeminfo(b []byte) (Meminfo, error) {
	var m Meminfo
	hasTotal := false
	for line := range bytes.Lines(b) {
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *uint64
		switch string(name) {
		case "MemTotal":
			dst, hasTotal = &m.MemTotal, true
		case "MemFree":
			dst = &m.MemFree
		case "MemAvailable":
			dst, m.HasMemAvailable = &m.MemAvailable, true
		case "Buffers":
			dst = &m.Buffers
		case "Cached":
			dst = &m.Cached
		case "SReclaimable":
			dst = &m.SReclaimable
		case "SwapTotal":
			dst = &m.SwapTotal
		case "SwapFree":
			dst = &m.SwapFree
		default:
			continue
		}
		v, err := parseKB(rest)
		if err != nil {
			return Meminfo{}, fmt.Errorf("%s: %w", name, err)
		}
		*dst = v
	}
	if !hasTotal {
		return Meminfo{}, errors.New("no MemTotal line")
	}
	return m, nil
}

// parseKB parses " 1234 kB" into bytes.
func parseKB(b []byte) (uint64, error) {
	fields := bytes.Fields(b)
	if len(fields) == 0 || len(fields) > 2 || len(fields) == 2 && string(fields[1]) != "kB" {
		return 0, fmt.Errorf("value %q is not a number of kB", bytes.TrimSpace(b))
	}
	v, err := strconv.ParseUint(string(fields[0]), 10, 64)
	if err != nil {
		return 0, err
	}
	if v > 1<<54 {
		return 0, fmt.Errorf("value %d kB is out of range", v)
	}
	if len(fields) == 1 { // a count, not a size (HugePages_Total and the like)
		return v, nil
	}
	return v * 1024, nil
}

// ParseUptime parses /proc/uptime: seconds since boot (with hundredths)
// and idle seconds. It returns the first.
func ParseUptime(b []byte) (time.Duration, error) {
	fields := bytes.Fields(b)
	if len(fields) == 0 {
		return 0, errors.New("empty")
	}
	secs, err := parseSeconds(fields[0])
	if err != nil {
		return 0, err
	}
	return secs, nil
}

// parseSeconds parses a non-negative decimal number of seconds.
func parseSeconds(b []byte) (time.Duration, error) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > float64(1<<62)/float64(time.Second) || v != v {
		return 0, fmt.Errorf("%q seconds is out of range", b)
	}
	return time.Duration(v * float64(time.Second)), nil
}

// Loadavg is the 1, 5 and 15 minute load averages.
type Loadavg struct {
	One, Five, Fifteen float64
}

// ParseLoadavg parses /proc/loadavg: "0.57 1.24 2.48 1/168 31997".
func ParseLoadavg(b []byte) (Loadavg, error) {
	fields := bytes.Fields(b)
	if len(fields) < 3 {
		return Loadavg{}, fmt.Errorf("%d fields, want at least 3", len(fields))
	}
	var l Loadavg
	for i, dst := range []*float64{&l.One, &l.Five, &l.Fifteen} {
		v, err := strconv.ParseFloat(string(fields[i]), 64)
		if err != nil {
			return Loadavg{}, err
		}
		*dst = v
	}
	return l, nil
}

// OnlinePath is the kernel's list of online CPUs (sysfs, not /proc).
const OnlinePath = "/sys/devices/system/cpu/online"

// ParseCPUList counts the CPUs of a kernel CPU list such as "0-3,8,10-11"
// (the format of /sys/devices/system/cpu/online).
func ParseCPUList(b []byte) (int, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0, errors.New("empty CPU list")
	}
	n := 0
	for r := range bytes.SplitSeq(b, []byte(",")) {
		lo, hi, isRange := bytes.Cut(r, []byte("-"))
		first, err := strconv.ParseUint(string(lo), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("CPU list %q: %w", b, err)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseUint(string(hi), 10, 32); err != nil {
				return 0, fmt.Errorf("CPU list %q: %w", b, err)
			}
		}
		if last < first {
			return 0, fmt.Errorf("CPU list %q: range %s runs backwards", b, r)
		}
		n += int(last-first) + 1
	}
	return n, nil
}
