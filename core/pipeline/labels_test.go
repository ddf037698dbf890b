package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// described is a storage that records the batches it receives and says
// whether it keeps labels.
type described struct {
	labels bool
	got    []*storage.Batch
}

func (d *described) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "d", Labels: d.labels}, nil
}
func (d *described) Open(context.Context, []byte) error { return nil }
func (d *described) WriteBatch(_ context.Context, b *storage.Batch) error {
	d.got = append(d.got, b)
	return nil
}
func (d *described) Close(context.Context) error { return nil }

// TestWriterFor: a storage that keeps labels receives the batch as it is;
// one that does not (a plugin built before labels) receives the labels
// folded into metric names, and the round's batch is left unchanged for
// the other storages.
func TestWriterFor(t *testing.T) {
	batch := func() *storage.Batch {
		return &storage.Batch{RoundID: "r", Collections: []storage.Collection{{HostIP: "10.0.0.1", HostPort: 22, Status: storage.StatusOK, StartedAt: time.Now(), Samples: []storage.Sample{
			{Metric: "cpu.percent", Value: 1},
			{Metric: "disk.used_percent", Value: 2, Labels: map[string]string{"mount": "/"}},
			{Metric: "disk.used_percent", Value: 3, Labels: map[string]string{"mount": "/var"}},
		}}}}
	}
	keeps, old := &described{labels: true}, &described{}
	b := batch()
	for _, s := range []*described{keeps, old} {
		if err := WriterFor(t.Context(), s).WriteBatch(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if keeps.got[0] != b {
		t.Error("a storage that keeps labels did not receive the batch itself")
	}
	var names []string
	for _, s := range old.got[0].Collections[0].Samples {
		names = append(names, s.Metric)
		if s.Labels != nil {
			t.Errorf("%s still has labels", s.Metric)
		}
	}
	want := []string{"cpu.percent", `disk.used_percent{mount="/"}`, `disk.used_percent{mount="/var"}`}
	if len(names) != 3 || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Errorf("the old storage received %q, want %q", names, want)
	}
	if err := old.got[0].Validate(); err != nil {
		t.Errorf("folded batch: %v", err)
	}
	if b.Collections[0].Samples[1].Metric != "disk.used_percent" || b.Collections[0].Samples[1].Labels == nil {
		t.Error("folding changed the round's batch")
	}
}
