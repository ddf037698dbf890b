package round

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// meetingStorage takes a batch only while its partner is taking it too,
// so it succeeds only when storages are written at the same time.
type meetingStorage struct {
	started, partner chan struct{}
	fail             error
}

func (m *meetingStorage) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "meeting"}, nil
}
func (m *meetingStorage) Open(context.Context, []byte) error { return nil }
func (m *meetingStorage) Close(context.Context) error        { return nil }
func (m *meetingStorage) WriteBatch(context.Context, *storage.Batch) error {
	if m.fail != nil {
		return m.fail
	}
	close(m.started)
	select {
	case <-m.partner:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("the other storage was not written meanwhile")
	}
}

// recorder keeps a round's notes.
type recorder struct{ notes []Note }

func (r *recorder) HostDone(int, int, storage.Collection) {}
func (r *recorder) Note(n Note)                           { r.notes = append(r.notes, n) }

// TestStoreRoundWritesStoragesAtOnce: storages receive the round at the
// same time, and their messages come out in the storages' order.
func TestStoreRoundWritesStoragesAtOnce(t *testing.T) {
	id := testkey.New(t)
	a := &meetingStorage{started: make(chan struct{}), partner: make(chan struct{})}
	b := &meetingStorage{started: a.partner, partner: a.started}
	storages := []pipeline.Storage{
		{Name: "a", Label: "storage a", Storage: a, Writer: a},
		{Name: "broken", Label: "storage broken", Writer: &meetingStorage{fail: errors.New("backend down")}},
		{Name: "b", Label: "storage b", Storage: b, Writer: b},
	}
	var notes recorder
	dataDir := t.TempDir()
	plan := &Plan{Env: Environment{DataDir: dataDir}, Identity: id, redact: func(s string) string { return s }}
	batch := &storage.Batch{RoundID: "round-1"}
	if store(t.Context(), noter{&notes}, plan, storages, batch) {
		t.Error("store reported every storage stored, but one is broken")
	}
	if len(notes.notes) != 1 || !notes.notes[0].Problem ||
		!strings.Contains(notes.notes[0].Text, "round round-1 was not stored in storage broken (backend down)") ||
		!strings.Contains(notes.notes[0].Text, filepath.Join(dataDir, "spool", "broken")) {
		t.Errorf("notes %v: want one problem, saying the broken storage's copy is spooled", notes.notes)
	}
	for _, m := range []*meetingStorage{a, b} {
		select {
		case <-m.started:
		default:
			t.Error("a storage was not written")
		}
	}
}
