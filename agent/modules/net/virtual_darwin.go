package net

import stdnet "net"

// virtualNames names the host's virtual interfaces: those of macOS's own
// software drivers (isDarwinVirtual).
func virtualNames() map[string]bool {
	out := map[string]bool{}
	all, err := stdnet.Interfaces()
	if err != nil {
		return out
	}
	for _, i := range all {
		if isDarwinVirtual(i.Name) {
			out[i.Name] = true
		}
	}
	return out
}
