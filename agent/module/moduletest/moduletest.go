// Package moduletest holds what the tests of the agent's built-in modules
// share: cases run through a fake Reader and the check of what Collect
// returned. Only tests import it, so it adds nothing to the agent.
package moduletest

import (
	"context"
	"reflect"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// reader is a module.Reader returning stats and err.
type reader[S any] struct {
	stats S
	err   error
}

// Read returns r.stats and r.err.
func (r reader[S]) Read(context.Context) (S, error) { return r.stats, r.err }

// Case is one run of a module reading through a fake reader: what it
// returns (Stats and Err) and what Collect must return, exactly (WantErr:
// an error).
type Case[S any] struct {
	Stats   S
	Err     error
	Want    []protocol.Metric
	WantErr bool
}

// Collect runs each case through the module newModule returns for a
// reader returning the case's Stats and Err, with an empty Config.
func Collect[S any](t *testing.T, newModule func(module.Reader[S]) module.Reading, cases map[string]Case[S]) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := newModule(reader[S]{stats: tc.Stats, err: tc.Err}).Collect(context.Background(), module.Config{})
			Check(t, got, err, tc.Want, tc.WantErr)
		})
	}
}

// Check checks what Collect returned: an error when wantErr, else exactly
// the metrics want, in order.
func Check(t *testing.T, got []protocol.Metric, err error, want []protocol.Metric, wantErr bool) {
	t.Helper()
	if wantErr {
		if err == nil {
			t.Fatalf("Collect() = %v, want an error", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("Collect(): %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Collect() = %v, want %v", got, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("metric %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
