package net

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/cscs-dev/cscs/agent/internal/procfs"
)

// netDevPath lists the interfaces and their counters.
const netDevPath = "/proc/net/dev"

// iffLoopback is IFF_LOOPBACK of <linux/if.h>.
const iffLoopback = 0x8

// hostReader reads /proc/net/dev and tells loopback and virtual
// interfaces apart through sysfs under sysRoot ("" means "/sys").
type hostReader struct {
	netDev  string // "" means netDevPath
	sysRoot string
}

func (r hostReader) Read(context.Context) ([]Interface, error) {
	p := r.netDev
	if p == "" {
		p = netDevPath
	}
	ifcs, err := procfs.Read(p, parseNetDev)
	if err != nil {
		return nil, err
	}
	sys := r.sysRoot
	if sys == "" {
		sys = "/sys"
	}
	for i := range ifcs {
		ifcs[i].Loopback, ifcs[i].Virtual = classify(sys, ifcs[i].Name)
	}
	return ifcs, nil
}

// classify tells whether interface name is loopback (named "lo", or
// flagged IFF_LOOPBACK) and whether it is virtual: the kernel puts every
// interface without a device behind it (lo, bridges, veth, tun, wireguard,
// dummy, ...) under /sys/devices/virtual/net. Without sysfs only "lo" is
// known (as loopback and virtual).
func classify(sys, name string) (loopback, virtual bool) {
	loopback = name == "lo"
	if b, err := os.ReadFile(sys + "/class/net/" + name + "/flags"); err == nil {
		s := strings.TrimPrefix(strings.TrimSpace(string(b)), "0x")
		if f, err := strconv.ParseUint(s, 16, 32); err == nil && f&iffLoopback != 0 {
			loopback = true
		}
	}
	_, err := os.Stat(sys + "/devices/virtual/net/" + name)
	return loopback, loopback || err == nil
}
