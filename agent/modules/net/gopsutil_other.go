//go:build !linux

package net

import (
	"context"
	stdnet "net"

	psnet "github.com/shirou/gopsutil/v4/net"
)

// hostReader reads the counters with gopsutil and the loopback flag with
// the standard library; virtualNames (per operating system) says which
// interfaces are virtual.
type hostReader struct{}

func (hostReader) Read(ctx context.Context) ([]Interface, error) {
	stats, err := psnet.IOCountersWithContext(ctx, true)
	if err != nil {
		return nil, err
	}
	ifcs := make([]Interface, 0, len(stats))
	for _, s := range stats {
		ifcs = append(ifcs, Interface{Name: s.Name, Counters: Counters{
			RxBytes: s.BytesRecv, RxPackets: s.PacketsRecv, RxErrors: s.Errin, RxDrops: s.Dropin,
			TxBytes: s.BytesSent, TxPackets: s.PacketsSent, TxErrors: s.Errout, TxDrops: s.Dropout,
		}})
	}
	// Without the list of interfaces (an error here is unlikely once
	// gopsutil read the counters) none is known as loopback.
	all, _ := stdnet.Interfaces()
	loopbacks := map[string]bool{}
	for _, i := range all {
		if i.Flags&stdnet.FlagLoopback != 0 {
			loopbacks[i.Name] = true
		}
	}
	return mark(ifcs, loopbacks, virtualNames(all)), nil
}
