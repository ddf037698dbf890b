package round

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

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
	waiting(notes, p, storages, batch)
	return !slices.Contains(stored, false)
}

// waiting says which spooled rounds still wait after batch was stored:
// earlier rounds in the spool of a storage of the round (it did not take
// them yet; batch has its own note), or any in the spool of a storage the
// configuration no longer has (a DSN or storage block that changed),
// which no round replays.
func waiting(notes noter, p *Plan, storages []pipeline.Storage, batch *storage.Batch) {
	spools, err := spool.List(p.spoolRoot())
	if err != nil {
		notes.problem("%v", err)
	}
	now := batch.FinishedAt
	for _, sp := range spools {
		current := slices.ContainsFunc(storages, func(st pipeline.Storage) bool { return st.Name == sp.Name })
		if current {
			sp.Rounds = slices.DeleteFunc(sp.Rounds, func(id string) bool { return id == batch.RoundID })
		}
		if len(sp.Rounds) == 0 {
			continue
		}
		b := backlog(sp)
		label := b.Label
		if label == "" {
			label = "an unknown storage"
		}
		age := ""
		if !b.Oldest.IsZero() {
			age = fmt.Sprintf(", the oldest from %s (%s ago)", b.Oldest.Local().Format(time.DateTime), now.Sub(b.Oldest).Round(time.Second))
		}
		if current {
			notes.problem("%d earlier round(s) wait in the spool of %s (%s)%s; a run stores them once it takes rounds again",
				b.Rounds, label, sp.Name, age)
			continue
		}
		notes.problem("%d round(s) spooled for %s wait in %s%s, and no run stores them: it is not a storage of this configuration; "+
			"store them with `cscs spool replay %s` (given this run's --db, or --to one of its storage blocks), or delete them with `cscs spool drop %s`",
			b.Rounds, label, filepath.Join(p.spoolRoot(), sp.Name), age, sp.Name, sp.Name)
	}
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
	n, err := sp.Replay(ctx, st.Writer)
	if n > 0 {
		note(false, "stored %d round(s) spooled by earlier runs in %s", n, st.Label)
	}
	if err == nil {
		err = st.Writer.WriteBatch(ctx, batch)
	}
	if err == nil {
		return true, notes
	}
	// A storage plugin that stopped answering is a plugin failure; one
	// that answered with an error (its database is down) is not.
	failed := Note{Problem: true, PluginFailed: pluginhost.Failed(err)}
	perr := sp.SetLabel(st.Label)
	if perr == nil {
		perr = sp.Put(batch)
	}
	if perr != nil {
		failed.Text = fmt.Sprintf("round %s was NOT stored in %s (%s) and could not be spooled: %v", batch.RoundID, st.Label, p.redact(err.Error()), perr)
		return false, append(notes, failed)
	}
	failed.Text = fmt.Sprintf("round %s was not stored in %s (%s); it is spooled in %s and will be stored by the next run",
		batch.RoundID, st.Label, p.redact(err.Error()), sp.Dir())
	return false, append(notes, failed)
}
