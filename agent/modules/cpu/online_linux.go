package cpu

import "github.com/tklauser/numcpus"

// onlineCPUs reads /sys/devices/system/cpu/online.
func onlineCPUs() (int, error) {
	online, err := numcpus.ListOnline()
	return len(online), err
}
