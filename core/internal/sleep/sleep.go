// Package sleep holds the core's one way to wait: a sleep that a
// context can cut short.
package sleep

import (
	"context"
	"time"
)

// For waits d, or until ctx ends; it reports false when ctx ended
// first.
func For(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
