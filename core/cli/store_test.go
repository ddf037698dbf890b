package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

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

// TestStoreRoundWritesStoragesAtOnce: storages receive the round at the
// same time, and their messages come out in the storages' order.
func TestStoreRoundWritesStoragesAtOnce(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	must(t, err)
	a := &meetingStorage{started: make(chan struct{}), partner: make(chan struct{})}
	b := &meetingStorage{started: a.partner, partner: a.started}
	storages := []pipeline.Storage{
		{Name: "a", Label: "storage a", Storage: a},
		{Name: "broken", Label: "storage broken", Storage: &meetingStorage{fail: errors.New("backend down")}},
		{Name: "b", Label: "storage b", Storage: b},
	}
	var stderr bytes.Buffer
	dataDir := t.TempDir()
	batch := &storage.Batch{RoundID: "round-1"}
	ok := storeRound(t.Context(), &Env{Stderr: &stderr}, id, dataDir, storages, batch, func(s string) string { return s })
	if ok {
		t.Error("storeRound reported every storage stored, but one is broken")
	}
	out := stderr.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "round round-1 was not stored in storage broken (backend down)") ||
		!strings.Contains(out, filepath.Join(dataDir, "spool", "broken")) {
		t.Errorf("stderr %q: want one line, saying the broken storage's copy is spooled", out)
	}
	for _, m := range []*meetingStorage{a, b} {
		select {
		case <-m.started:
		default:
			t.Error("a storage was not written")
		}
	}
}
