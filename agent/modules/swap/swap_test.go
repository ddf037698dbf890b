package swap

import (
	"errors"
	"testing"

	"github.com/cscs-dev/cscs/agent/module/moduletest"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// want are the module's metrics: used percent, total and used bytes.
func want(percent, total, used float64) []protocol.Metric {
	return []protocol.Metric{
		{Name: metrics.SwapUsedPercent, Value: percent, Unit: "percent"},
		{Name: metrics.SwapTotalBytes, Value: total, Unit: "bytes"},
		{Name: metrics.SwapUsedBytes, Value: used, Unit: "bytes"},
	}
}

func TestCollect(t *testing.T) {
	moduletest.Collect(t, NewWithReader, map[string]moduletest.Case[Stats]{
		"no swap":            {Stats: Stats{}, Want: want(0, 0, 0)},
		"quarter used":       {Stats: Stats{TotalBytes: 4096, UsedBytes: 1024}, Want: want(25, 4096, 1024)},
		"fully used":         {Stats: Stats{TotalBytes: 2048, UsedBytes: 2048}, Want: want(100, 2048, 2048)},
		"used above total":   {Stats: Stats{TotalBytes: 2048, UsedBytes: 4096}, Want: want(100, 2048, 2048)},
		"used without total": {Stats: Stats{TotalBytes: 0, UsedBytes: 10}, Want: want(0, 0, 0)},
		"read error":         {Err: errors.New("sysctl failed"), WantErr: true},
	})
}
