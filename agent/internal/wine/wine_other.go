//go:build !windows

package wine

// Running reports false: Wine runs Windows programs only.
func Running() bool { return false }
