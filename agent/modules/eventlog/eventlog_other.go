//go:build !windows

package eventlog

import (
	"context"
	"runtime"
)

// Read reads the events of a Windows event log channel; see the Windows
// build. Here, on a system without event logs, it returns an
// *UnsupportedError (which matches errors.ErrUnsupported).
func Read(_ context.Context, _ string, _ Cursor, _ Options) (Result, error) {
	return Result{}, &UnsupportedError{GOOS: runtime.GOOS}
}
