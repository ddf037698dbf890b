package swap

import "github.com/cscs-dev/cscs/agent/internal/procfs"

// fromMeminfo turns Linux's /proc/meminfo into Stats. A host without swap
// has SwapTotal 0 (or, with swap compiled out, no Swap lines at all).
func fromMeminfo(m procfs.Meminfo) Stats {
	free := min(m.SwapFree, m.SwapTotal)
	return Stats{TotalBytes: m.SwapTotal, UsedBytes: m.SwapTotal - free}
}
