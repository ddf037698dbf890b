package net

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// netDevFields is the number of counters on each line of /proc/net/dev:
// eight received (bytes packets errs drop fifo frame compressed
// multicast), then eight sent (bytes packets errs drop fifo colls carrier
// compressed). Every kernel since 2.2 writes them all.
const netDevFields = 16

// parseNetDev parses Linux's /proc/net/dev: two header lines holding '|',
// then one line per interface, "  eth0: 1234 56 0 0 ...". The kernel
// pads the name to the right of six columns and glues the ':' to it, and
// large counters can touch the ':' ("eth0:123456789"). Names may not hold
// ':' (the kernel refuses them), so the first ':' ends the name. Loopback
// and Virtual are left false: /proc/net/dev does not say.
func parseNetDev(b []byte) ([]Interface, error) {
	var out []Interface
	n := 0
	for rest := b; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		n++
		line = bytes.TrimSpace(line)
		if len(line) == 0 || bytes.IndexByte(line, '|') >= 0 {
			continue
		}
		name, counters, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return nil, fmt.Errorf("line %d %q has no \"name:\"", n, clip(line))
		}
		name = bytes.TrimSpace(name)
		if !validName(name) {
			return nil, fmt.Errorf("line %d %q: %q is not an interface name", n, clip(line), name)
		}
		fields := bytes.Fields(counters)
		if len(fields) < netDevFields {
			return nil, fmt.Errorf("line %d %q: %d counters, want %d", n, clip(line), len(fields), netDevFields)
		}
		var v [netDevFields]uint64
		for i := range v {
			var err error
			if v[i], err = strconv.ParseUint(string(fields[i]), 10, 64); err != nil {
				return nil, fmt.Errorf("line %d %q: counter %d %q is not a number", n, clip(line), i+1, clip(fields[i]))
			}
		}
		out = append(out, Interface{Name: string(name), Counters: Counters{
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDrops: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDrops: v[11],
		}})
	}
	if n == 0 {
		return nil, errors.New("the file is empty")
	}
	return out, nil
}

// validName tells whether name can be a Linux interface's: not empty, not
// "." nor "..", without '/' or white space (dev_valid_name).
func validName(name []byte) bool {
	if len(name) == 0 || string(name) == "." || string(name) == ".." {
		return false
	}
	for _, c := range name {
		if c == '/' || c == ' ' || c == '\t' {
			return false
		}
	}
	return true
}

// clip shortens b for an error message.
func clip(b []byte) string {
	const most = 200
	if len(b) > most {
		return string(b[:most]) + "..."
	}
	return string(b)
}
