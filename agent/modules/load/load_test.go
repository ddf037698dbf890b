package load

import (
	"errors"
	"testing"

	"github.com/cscs-dev/cscs/agent/module/moduletest"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// want are the module's metrics for a.
func want(a Averages) []protocol.Metric {
	return []protocol.Metric{
		{Name: metrics.Load1, Value: a.One},
		{Name: metrics.Load5, Value: a.Five},
		{Name: metrics.Load15, Value: a.Fifteen},
	}
}

func TestCollect(t *testing.T) {
	busy := Averages{One: 3.5, Five: 2.25, Fifteen: 1}
	moduletest.Collect(t, NewWithReader, map[string]moduletest.Case[Averages]{
		"idle":     {Stats: Averages{}, Want: want(Averages{})},
		"busy":     {Stats: busy, Want: want(busy)},
		"negative": {Stats: Averages{One: 1, Five: -1, Fifteen: 1}, WantErr: true},
		"failure":  {Err: errors.New("sysctl vm.loadavg failed"), WantErr: true},
	})
}
