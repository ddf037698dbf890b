package module

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

func TestCPUSampleOrDefault(t *testing.T) {
	tests := map[string]struct {
		in   time.Duration
		want time.Duration
	}{
		"unset":    {in: 0, want: DefaultCPUSample},
		"negative": {in: -time.Second, want: DefaultCPUSample},
		"set":      {in: 250 * time.Millisecond, want: 250 * time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (Config{CPUSample: tc.in}).CPUSampleOrDefault(); got != tc.want {
				t.Fatalf("CPUSampleOrDefault() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReading(t *testing.T) {
	errRead := errors.New("no /proc")
	tests := map[string]struct {
		metrics []protocol.Metric
		err     error
	}{
		"metrics": {metrics: []protocol.Metric{{Name: "x.count", Value: 3}}},
		"error":   {err: errRead},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := NewReading("x", "x figures", func(context.Context) ([]protocol.Metric, error) { return tc.metrics, tc.err })
			if m.Name() != "x" {
				t.Errorf("Name() = %q, want %q", m.Name(), "x")
			}
			got, err := m.Collect(context.Background(), Config{})
			if tc.err != nil {
				if !errors.Is(err, tc.err) || err.Error() != "read x figures: "+tc.err.Error() {
					t.Fatalf("Collect() = %v, %v; want an error wrapping %q after \"read x figures: \"", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.metrics) {
				t.Fatalf("Collect() = %v, %v; want %v", got, err, tc.metrics)
			}
		})
	}
}
