package retained

import (
	"context"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

type nopStore struct{}

func (nopStore) WriteBatch(context.Context, *storage.Batch) error { return nil }
func (nopStore) PruneAll(context.Context, time.Time) (storage.Pruned, error) {
	return storage.Pruned{}, nil
}
func (nopStore) PreviewAll(context.Context, time.Time) (storage.Pruned, error) {
	return storage.Pruned{}, nil
}
func (nopStore) Close() error { return nil }

func TestPruneSchedule(t *testing.T) {
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h := &Holder[nopStore]{Now: func() time.Time { return clock }}
	steps := []struct {
		advance   time.Duration
		retention time.Duration
		reopen    bool
		wantDue   bool
	}{
		{retention: 0, wantDue: false},
		{retention: 48 * time.Hour, wantDue: true},
		{advance: time.Minute, retention: 48 * time.Hour, wantDue: false},
		{advance: 58 * time.Minute, retention: 48 * time.Hour, wantDue: false},
		{advance: time.Minute, retention: 48 * time.Hour, wantDue: true},
		{advance: time.Minute, retention: 48 * time.Hour, reopen: true, wantDue: true},
	}
	for i, st := range steps {
		clock = clock.Add(st.advance)
		h.retention = st.retention
		if st.reopen {
			h.lastPrune = time.Time{} // what Open does
		}
		cutoff, due := h.PruneDue()
		if due != st.wantDue {
			t.Fatalf("step %d: due = %v; want %v", i, due, st.wantDue)
		}
		if due && !cutoff.Equal(clock.Add(-st.retention)) {
			t.Errorf("step %d: cutoff %v; want %v", i, cutoff, clock.Add(-st.retention))
		}
	}
}

func TestBeforeOpen(t *testing.T) {
	var h Holder[nopStore]
	if err := h.WriteBatch(context.Background(), "x", &storage.Batch{}, nil); err == nil || err.Error() != "x: WriteBatch before Open" {
		t.Fatalf("got %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}
