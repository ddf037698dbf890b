package cpu

import "github.com/cscs-dev/cscs/agent/internal/procfs"

// onlineCPUs counts the CPUs in /sys/devices/system/cpu/online.
func onlineCPUs() (int, error) {
	return procfs.Read(procfs.OnlinePath, procfs.ParseCPUList)
}
