package load

import (
	"context"
	"errors"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

type fakeReader struct {
	a   Averages
	err error
}

func (f fakeReader) LoadAverages(context.Context) (Averages, error) { return f.a, f.err }

func TestCollect(t *testing.T) {
	tests := map[string]struct {
		reader  fakeReader
		wantErr bool
	}{
		"idle":     {reader: fakeReader{a: Averages{}}},
		"busy":     {reader: fakeReader{a: Averages{One: 3.5, Five: 2.25, Fifteen: 1}}},
		"negative": {reader: fakeReader{a: Averages{One: 1, Five: -1, Fifteen: 1}}, wantErr: true},
		"failure":  {reader: fakeReader{err: errors.New("sysctl vm.loadavg failed")}, wantErr: true},
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
			want := []protocol.Metric{
				{Name: metrics.Load1, Value: tc.reader.a.One},
				{Name: metrics.Load5, Value: tc.reader.a.Five},
				{Name: metrics.Load15, Value: tc.reader.a.Fifteen},
			}
			if len(got) != len(want) {
				t.Fatalf("Collect() = %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("metric %d = %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
