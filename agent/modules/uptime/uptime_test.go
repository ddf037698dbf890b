package uptime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

type fakeReader struct {
	d   time.Duration
	err error
}

func (f fakeReader) Uptime(context.Context) (time.Duration, error) { return f.d, f.err }

func TestCollect(t *testing.T) {
	tests := map[string]struct {
		reader  fakeReader
		want    float64
		wantErr bool
	}{
		"one day":        {reader: fakeReader{d: 24 * time.Hour}, want: 86400},
		"fractional":     {reader: fakeReader{d: 1500 * time.Millisecond}, want: 1.5},
		"just booted":    {reader: fakeReader{d: 0}, want: 0},
		"negative":       {reader: fakeReader{d: -time.Second}, wantErr: true},
		"reader failure": {reader: fakeReader{err: errors.New("sysinfo failed")}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := NewWithReader(tc.reader).Collect(context.Background(), module.Config{})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Collect() = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Collect(): %v", err)
			}
			want := protocol.Metric{Name: metrics.UptimeSeconds, Value: tc.want, Unit: "seconds"}
			if len(got) != 1 || got[0] != want {
				t.Fatalf("Collect() = %v, want [%+v]", got, want)
			}
		})
	}
}

func TestSystemReaderOnThisHost(t *testing.T) {
	d, err := gopsutilReader{}.Uptime(context.Background())
	if err != nil {
		t.Fatalf("Uptime(): %v", err)
	}
	if d <= 0 {
		t.Fatalf("Uptime() = %v, want > 0 on a running host", d)
	}
}
