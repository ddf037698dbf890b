package pipeline

import (
	"context"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// BatchWriter writes rounds to a storage.
type BatchWriter interface {
	WriteBatch(ctx context.Context, b *storage.Batch) error
}

// WriterFor returns what writes rounds to s: s itself when it keeps
// sample labels (storage.Description.Labels), else a writer that folds
// each sample's labels into its metric name (storage.FoldLabels), so that
// a storage plugin built before labels never receives two samples of one
// metric in a collection. A storage that cannot describe itself is
// written folded.
func WriterFor(ctx context.Context, s storage.Storage) BatchWriter {
	if d, err := s.Describe(ctx); err == nil && d.Labels {
		return s
	}
	return folding{s}
}

// folding writes batches with labels folded into metric names.
type folding struct{ s storage.Storage }

func (f folding) WriteBatch(ctx context.Context, b *storage.Batch) error {
	if b == nil {
		return f.s.WriteBatch(ctx, b)
	}
	out := *b
	out.Collections = make([]storage.Collection, len(b.Collections))
	for i, c := range b.Collections {
		c.Samples = storage.FoldLabels(c.Samples)
		out.Collections[i] = c
	}
	return f.s.WriteBatch(ctx, &out)
}
