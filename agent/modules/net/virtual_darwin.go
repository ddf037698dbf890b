package net

import stdnet "net"

// virtualNames names the virtual interfaces of all: those of macOS's own
// software drivers (isDarwinVirtual).
func virtualNames(all []stdnet.Interface) map[string]bool {
	out := map[string]bool{}
	for _, i := range all {
		if isDarwinVirtual(i.Name) {
			out[i.Name] = true
		}
	}
	return out
}
