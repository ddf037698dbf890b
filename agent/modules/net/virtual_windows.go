package net

import (
	"errors"
	stdnet "net"
	"unsafe"

	"golang.org/x/sys/windows"
)

// virtualNames names the host's virtual adapters (isWindowsVirtual), by
// friendly name as net.Interfaces and gopsutil name them; it asks Windows
// for the adapters' types and descriptions, which net.Interfaces does not
// give. When the adapters cannot be listed it names none.
func virtualNames([]stdnet.Interface) map[string]bool {
	out := map[string]bool{}
	size := uint32(15000)
	for range 3 {
		buf := make([]byte, size)
		first := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		const flags = windows.GAA_FLAG_SKIP_UNICAST | windows.GAA_FLAG_SKIP_ANYCAST |
			windows.GAA_FLAG_SKIP_MULTICAST | windows.GAA_FLAG_SKIP_DNS_SERVER
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, flags, 0, first, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			continue
		}
		if err != nil {
			return out
		}
		for a := first; a != nil; a = a.Next {
			if isWindowsVirtual(a.IfType, windows.UTF16PtrToString(a.Description)) {
				out[windows.UTF16PtrToString(a.FriendlyName)] = true
			}
		}
		return out
	}
	return out
}
