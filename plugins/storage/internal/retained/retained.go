// Package retained is what the built-in storage plugins share around their
// store: it holds the open store, replaces it on a new Open, and prunes
// what is past the configured retention (collections, events, done
// notification records and resolved alert states, as `cscs db prune`
// does) after writes — at the first write after Open, then at most once
// per PruneEvery.
package retained

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// PruneEvery is the least time between two automatic prunes of one open
// store: the first write after Open prunes, later writes only once this
// much time has passed (a long-running `cscs serve`).
const PruneEvery = time.Hour

// Store is a storage backend's open database.
type Store interface {
	WriteBatch(ctx context.Context, b *storage.Batch) error
	PruneAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error)
	// PreviewAll counts what PruneAll would delete, deleting nothing.
	PreviewAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error)
	Close() error
}

// Holder holds a plugin's open store. The zero value holds none.
type Holder[S Store] struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	store     S
	open      bool
	retention time.Duration
	lastPrune time.Time
}

// ParseRetention reads a "retention" setting: "90d" or a Go duration;
// empty keeps everything (0).
func ParseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return storage.ParseAge(s)
}

// Set makes st the open store, closing the one before.
func (h *Holder[S]) Set(st S, retention time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open {
		_ = h.store.Close()
	}
	h.store, h.open = st, true
	h.retention = retention
	h.lastPrune = time.Time{}
}

// Current returns the open store.
func (h *Holder[S]) Current() (S, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.store, h.open
}

// WriteBatch stores one round, then prunes what is older than the
// retention when a prune is due. A failed prune is logged, not returned:
// the round is stored. name prefixes errors ("sqlite: WriteBatch before
// Open").
func (h *Holder[S]) WriteBatch(ctx context.Context, name string, b *storage.Batch, log hclog.Logger) error {
	st, ok := h.Current()
	if !ok {
		return errors.New(name + ": WriteBatch before Open")
	}
	if err := st.WriteBatch(ctx, b); err != nil {
		return err
	}
	if cutoff, due := h.PruneDue(); due {
		if _, err := st.PruneAll(ctx, cutoff); err != nil {
			log.Warn("round stored, but pruning old collections, events, notification records and alert states failed; the next round tries again", "error", err.Error())
		}
	}
	return nil
}

// PruneAll deletes what is older than olderThan (see Pruning); name
// prefixes errors.
func (h *Holder[S]) PruneAll(ctx context.Context, name string, olderThan time.Time) (storage.Pruned, error) {
	st, ok := h.Current()
	if !ok {
		return storage.Pruned{}, errors.New(name + ": Prune before Open")
	}
	return st.PruneAll(ctx, olderThan)
}

// PreviewAll counts what PruneAll would delete now; name prefixes errors.
func (h *Holder[S]) PreviewAll(ctx context.Context, name string, olderThan time.Time) (storage.Pruned, error) {
	st, ok := h.Current()
	if !ok {
		return storage.Pruned{}, errors.New(name + ": PrunePreview before Open")
	}
	return st.PreviewAll(ctx, olderThan)
}

// Close closes the open store; safe without one and more than once.
func (h *Holder[S]) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open {
		return nil
	}
	var zero S
	err := h.store.Close()
	h.store, h.open = zero, false
	return err
}

// PruneDue reports whether an automatic prune should run now, with its
// cutoff, and records it as done.
func (h *Holder[S]) PruneDue() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.retention <= 0 {
		return time.Time{}, false
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	if !h.lastPrune.IsZero() && now.Sub(h.lastPrune) < PruneEvery {
		return time.Time{}, false
	}
	h.lastPrune = now
	return now.Add(-h.retention), true
}
