//go:build !windows

package eventlog

import (
	"context"
	"errors"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
)

func TestNewReadsThroughRead(t *testing.T) {
	cursor := Cursor{Channel: "Security", RecordID: 7}.Encode()
	events, _, next, err := New().CollectEvents(context.Background(), module.Config{}, cursor)
	var unsupported *UnsupportedError
	if !errors.As(err, &unsupported) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("CollectEvents error = %v, want the *UnsupportedError of Read", err)
	}
	if len(events) != 0 || next != cursor {
		t.Fatalf("CollectEvents = %v events, cursor %q; want none and the cursor unchanged", events, next)
	}
}
