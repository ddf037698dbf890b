package sleep

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if !For(context.Background(), time.Millisecond) {
		t.Error("For with a live context reported it ended")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if For(ctx, time.Hour) {
		t.Error("For with an ended context waited it out")
	}
}
