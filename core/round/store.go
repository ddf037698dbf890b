package round

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/spool"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// store hands the batch to every storage, all at once. For each, rounds
// spooled by earlier runs are replayed first; a batch a storage cannot
// take is spooled (encrypted to the core's key) for the next run. Its
// notes come out storage by storage, in order. It reports whether every
// storage took the batch.
func store(ctx context.Context, notes noter, p *Plan, storages []pipeline.Storage, batch *storage.Batch) bool {
	each := make([][]Note, len(storages))
	stored := make([]bool, len(storages))
	var wg sync.WaitGroup
	for i, st := range storages {
		wg.Go(func() {
			stored[i], each[i] = storeIn(ctx, p, st, batch)
		})
	}
	wg.Wait()
	for _, ns := range each {
		for _, n := range ns {
			notes.rep.Note(n)
		}
	}
	return !slices.Contains(stored, false)
}

// storeIn is store for one storage; it returns whether the storage took
// the batch, and its notes.
func storeIn(ctx context.Context, p *Plan, st pipeline.Storage, batch *storage.Batch) (bool, []Note) {
	var notes []Note
	note := func(problem bool, format string, args ...any) {
		notes = append(notes, Note{Problem: problem, Text: fmt.Sprintf(format, args...)})
	}
	sp, err := spool.Open(p.spoolRoot(), st.Name, p.Identity)
	if err != nil {
		note(true, "%v", err)
		return false, notes
	}
	n, err := sp.Replay(ctx, st.Storage)
	if n > 0 {
		note(false, "stored %d round(s) spooled by earlier runs in %s", n, st.Label)
	}
	if err == nil {
		err = st.Storage.WriteBatch(ctx, batch)
	}
	if err == nil {
		return true, notes
	}
	// A storage plugin that stopped answering is a plugin failure; one
	// that answered with an error (its database is down) is not.
	failed := Note{Problem: true, PluginFailed: pluginhost.Failed(err)}
	if perr := sp.Put(batch); perr != nil {
		failed.Text = fmt.Sprintf("round %s was NOT stored in %s (%s) and could not be spooled: %v", batch.RoundID, st.Label, p.redact(err.Error()), perr)
		return false, append(notes, failed)
	}
	failed.Text = fmt.Sprintf("round %s was not stored in %s (%s); it is spooled in %s and will be stored by the next run",
		batch.RoundID, st.Label, p.redact(err.Error()), sp.Dir())
	return false, append(notes, failed)
}
