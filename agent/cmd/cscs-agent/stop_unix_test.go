//go:build unix

package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopOnSignals: each stop signal ends the context, naming the signal.
func TestStopOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, stop := stopOnSignals(context.Background())
			defer stop()
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-ctx.Done():
				if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), sig.String()) {
					t.Errorf("cause %v, want it to name %v", cause, sig)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%v did not end the context", sig)
			}
		})
	}
}
