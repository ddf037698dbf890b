//go:build !linux && !darwin && !windows

package net

// virtualNames names no interface: on this system only loopback is told
// apart.
func virtualNames() map[string]bool { return nil }
