//go:build !linux

package sshdtest

import (
	"runtime"
	"testing"
)

// Start is only implemented on Linux, where the test user is created with
// useradd and chpasswd; elsewhere the test is skipped (failed under CI=true).
func Start(tb testing.TB, opts Options) *Fleet {
	tb.Helper()
	skipOrFail(tb, "a real sshd fleet needs linux, this is "+runtime.GOOS)
	return nil
}
