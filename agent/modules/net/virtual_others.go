//go:build !linux && !darwin && !windows

package net

import stdnet "net"

// virtualNames names no interface: on this system only loopback is told
// apart.
func virtualNames([]stdnet.Interface) map[string]bool { return nil }
