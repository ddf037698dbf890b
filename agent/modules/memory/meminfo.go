package memory

import "github.com/cscs-dev/cscs/agent/internal/procfs"

// fromMeminfo turns Linux's /proc/meminfo into Stats: used is what is not
// available to new work, as free(1) and earlier agents (gopsutil) count it.
// Kernels before 3.14 have no MemAvailable; there available is free memory
// plus the page cache and the reclaimable slab.
func fromMeminfo(m procfs.Meminfo) Stats {
	avail := m.MemAvailable
	if !m.HasMemAvailable {
		avail = m.MemFree + m.Cached + m.SReclaimable
	}
	avail = min(avail, m.MemTotal)
	s := Stats{TotalBytes: m.MemTotal, AvailableBytes: avail, UsedBytes: m.MemTotal - avail}
	if m.MemTotal > 0 {
		s.UsedPercent = float64(s.UsedBytes) / float64(m.MemTotal) * 100
	}
	return s
}
