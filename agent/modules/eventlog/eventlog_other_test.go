//go:build !windows

package eventlog

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestReadIsUnsupported(t *testing.T) {
	_, err := Read(context.Background(), "Security", Cursor{}, Options{})
	var unsupported *UnsupportedError
	if !errors.As(err, &unsupported) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Read error = %v, want an *UnsupportedError matching errors.ErrUnsupported", err)
	}
	if unsupported.GOOS != runtime.GOOS || !strings.Contains(err.Error(), "cannot be read on "+runtime.GOOS) {
		t.Errorf("error %q names %q, want %q", err, unsupported.GOOS, runtime.GOOS)
	}
}
