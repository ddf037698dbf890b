package round

import (
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestOKWithErrors: a host collected with a module error (or dropped
// values) is ok with errors: the round is not OK (cscs run exits 1) and
// its summary counts it; a round of clean ok hosts is OK.
func TestOKWithErrors(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	batch := func(errs ...string) *storage.Batch {
		b := &storage.Batch{StartedAt: t0, FinishedAt: t0.Add(2 * time.Second)}
		for _, e := range errs {
			b.Collections = append(b.Collections, storage.Collection{Status: storage.StatusOK, Error: e})
		}
		return b
	}
	tests := []struct {
		name    string
		batch   *storage.Batch
		ok      bool
		summary string
	}{
		{"clean", batch("", ""), true, "2 hosts in 2s: 2 ok"},
		{"a module failed", batch("", "module errors: cpu: exit status 1"), false, "2 hosts in 2s: 2 ok (1 with errors)"},
	}
	for _, tt := range tests {
		res := &Result{Batch: tt.batch, Stored: true, Notified: true}
		if res.OK() != tt.ok || res.String() != tt.summary {
			t.Errorf("%s: OK %v, %q; want %v, %q", tt.name, res.OK(), res.String(), tt.ok, tt.summary)
		}
		for _, c := range tt.batch.Collections {
			if PartlyFailed(c) != strings.HasPrefix(c.Error, "module") {
				t.Errorf("%s: PartlyFailed(%+v) = %v", tt.name, c, PartlyFailed(c))
			}
		}
	}
}
