package remote

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// TestAgentDeadline: the agent gets the host's time left less a tenth of
// it, the margin kept within its bounds; no deadline without one.
func TestAgentDeadline(t *testing.T) {
	tests := []struct {
		name     string
		left     time.Duration // 0: no deadline
		min, max int           // milliseconds, with room for the test's own time
	}{
		{name: "no deadline", min: 0, max: 0},
		{name: "a minute: 2s margin", left: time.Minute, min: 57_900, max: 58_000},
		{name: "ten seconds: a tenth", left: 10 * time.Second, min: 8_900, max: 9_000},
		{name: "one second: at least 250ms", left: time.Second, min: 650, max: 750},
		{name: "nearly over: 1ms", left: 100 * time.Millisecond, min: 1, max: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.left > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.left)
				defer cancel()
			}
			if got := agentDeadline(ctx); got < tc.min || got > tc.max {
				t.Errorf("agentDeadline = %dms, want %d..%dms", got, tc.min, tc.max)
			}
		})
	}
}

// TestJobStdinCarriesTheDeadline: each run's request has the deadline
// left at that moment; the rest of the request is the prepared one.
func TestJobStdinCarriesTheDeadline(t *testing.T) {
	job := &hostJob{req: protocol.Request{Version: protocol.Version, Nonce: "n", HoldsStdin: true}}
	var err error
	if job.reqJSON, err = json.Marshal(job.req); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := job.stdin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got protocol.Request
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.DeadlineMillis < 8_000 || got.DeadlineMillis > 9_000 || got.Nonce != "n" || !got.HoldsStdin {
		t.Errorf("request %+v, want the prepared one with deadline_ms about 9000", got)
	}
	if data, _ := job.stdin(context.Background()); string(data) != string(job.reqJSON) {
		t.Errorf("without a deadline stdin is %s, want the prepared request", data)
	}
}
