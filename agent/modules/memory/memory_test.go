package memory

import (
	"errors"
	"testing"

	"github.com/cscs-dev/cscs/agent/module/moduletest"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

func TestCollect(t *testing.T) {
	moduletest.Collect(t, NewWithReader, map[string]moduletest.Case[Stats]{
		"normal": {
			Stats: Stats{TotalBytes: 8 << 30, UsedBytes: 3 << 30, AvailableBytes: 4 << 30, UsedPercent: 50},
			Want: []protocol.Metric{
				{Name: metrics.MemoryUsedPercent, Value: 50, Unit: "percent"},
				{Name: metrics.MemoryTotalBytes, Value: 8 << 30, Unit: "bytes"},
				{Name: metrics.MemoryUsedBytes, Value: 3 << 30, Unit: "bytes"},
				{Name: metrics.MemoryAvailBytes, Value: 4 << 30, Unit: "bytes"},
			},
		},
		"percent above 100 is clamped": {
			Stats: Stats{TotalBytes: 1024, UsedBytes: 1024, UsedPercent: 100.2},
			Want: []protocol.Metric{
				{Name: metrics.MemoryUsedPercent, Value: 100, Unit: "percent"},
				{Name: metrics.MemoryTotalBytes, Value: 1024, Unit: "bytes"},
				{Name: metrics.MemoryUsedBytes, Value: 1024, Unit: "bytes"},
				{Name: metrics.MemoryAvailBytes, Value: 0, Unit: "bytes"},
			},
		},
		"read error": {Err: errors.New("no /proc/meminfo"), WantErr: true},
		"zero total": {Stats: Stats{UsedPercent: 0}, WantErr: true},
	})
}
