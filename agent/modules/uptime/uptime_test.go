package uptime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module/moduletest"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// want is the module's one metric, seconds since boot.
func want(seconds float64) []protocol.Metric {
	return []protocol.Metric{{Name: metrics.UptimeSeconds, Value: seconds, Unit: "seconds"}}
}

func TestCollect(t *testing.T) {
	moduletest.Collect(t, NewWithReader, map[string]moduletest.Case[time.Duration]{
		"one day":        {Stats: 24 * time.Hour, Want: want(86400)},
		"fractional":     {Stats: 1500 * time.Millisecond, Want: want(1.5)},
		"just booted":    {Stats: 0, Want: want(0)},
		"negative":       {Stats: -time.Second, WantErr: true},
		"reader failure": {Err: errors.New("sysinfo failed"), WantErr: true},
	})
}

func TestSystemReaderOnThisHost(t *testing.T) {
	d, err := hostReader{}.Read(context.Background())
	if err != nil {
		t.Fatalf("Read(): %v", err)
	}
	if d <= 0 {
		t.Fatalf("Read() = %v, want > 0 on a running host", d)
	}
}
