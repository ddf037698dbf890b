package spool

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/sdk/storage"
)

type recorder struct {
	got  []string
	fail map[string]bool
}

func (r *recorder) WriteBatch(_ context.Context, b *storage.Batch) error {
	if r.fail[b.RoundID] {
		return errors.New("database is down")
	}
	r.got = append(r.got, b.RoundID)
	return nil
}

func batch(id string) *storage.Batch {
	t := time.Date(2026, 11, 25, 22, 0, 0, 123456789, time.UTC)
	return &storage.Batch{RoundID: id, StartedAt: t, FinishedAt: t.Add(time.Second), Collections: []storage.Collection{{
		HostIP: "127.0.0.1", HostPort: 22, Status: storage.StatusOK, StartedAt: t, FinishedAt: t,
		Timings: storage.Timings{Exec: 1500 * time.Microsecond},
		Samples: []storage.Sample{{Metric: "cpu.percent", Value: 12.5, Unit: "percent", Time: t}},
	}}}
}

func TestPutGetReplay(t *testing.T) {
	id := testkey.New(t)
	s, err := Open(t.TempDir(), "sqlite", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"20261125T220200Z-bb", "20261125T220100Z-aa", "20261125T220300Z-cc"} {
		if err := s.Put(batch(r)); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(s.Dir(), "20261125T220100Z-aa.age"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("cpu.percent")) || bytes.Contains(raw, []byte("127.0.0.1")) {
		t.Fatal("spool file is not encrypted")
	}
	got, err := s.Get("20261125T220100Z-aa")
	if err != nil {
		t.Fatal(err)
	}
	want := batch("20261125T220100Z-aa")
	if !got.StartedAt.Equal(want.StartedAt) || got.Collections[0].Timings.Exec != want.Collections[0].Timings.Exec ||
		!reflect.DeepEqual(got.Collections[0].Samples[0], want.Collections[0].Samples[0]) {
		t.Fatalf("round trip lost data: %+v", got)
	}

	// The second round fails: replay stops there and keeps it and the rest.
	rec := &recorder{fail: map[string]bool{"20261125T220200Z-bb": true}}
	n, err := s.Replay(context.Background(), rec)
	if err == nil || n != 1 {
		t.Fatalf("replay = %d, %v; want 1 and an error", n, err)
	}
	pending, _ := s.Pending()
	if len(pending) != 2 {
		t.Fatalf("pending after a failed replay: %v", pending)
	}
	rec.fail = nil
	n, err = s.Replay(context.Background(), rec)
	if err != nil || n != 2 {
		t.Fatalf("replay = %d, %v", n, err)
	}
	wantOrder := []string{"20261125T220100Z-aa", "20261125T220200Z-bb", "20261125T220300Z-cc"}
	for i, r := range wantOrder {
		if rec.got[i] != r {
			t.Fatalf("replay order %v, want %v", rec.got, wantOrder)
		}
	}
	if pending, _ := s.Pending(); len(pending) != 0 {
		t.Fatalf("spool not empty: %v", pending)
	}
}

func TestWrongKeyCannotRead(t *testing.T) {
	a, _ := age.GenerateX25519Identity()
	b, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	sa, _ := Open(dir, "sqlite", a)
	if err := sa.Put(batch("r1")); err != nil {
		t.Fatal(err)
	}
	sb, _ := Open(dir, "sqlite", b)
	if _, err := sb.Get("r1"); err == nil {
		t.Fatal("another key decrypted the spool")
	}
}

func TestUnsafeNames(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	if _, err := Open(t.TempDir(), "../etc", id); err == nil {
		t.Error("unsafe storage name accepted")
	}
	s, _ := Open(t.TempDir(), "sqlite", id)
	if err := s.Put(&storage.Batch{RoundID: "../../x"}); err == nil {
		t.Error("unsafe round id accepted")
	}
}

// TestListLabelDrop: List names every spool with its label and waiting
// rounds, oldest first; Drop deletes a spool's rounds and label.
func TestListLabelDrop(t *testing.T) {
	root := t.TempDir()
	id := testkey.New(t)
	if got, err := List(root + "/none"); err != nil || got != nil {
		t.Fatalf("List of a missing root = %v, %v", got, err)
	}
	spools := map[string][]string{
		"postgres-0a1b2c": {"20261125T220200Z-bb", "20261125T220100Z-aa"},
		"storage-archive": nil,
	}
	for name, rounds := range spools {
		s, err := Open(root, name, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetLabel("label of " + name); err != nil {
			t.Fatal(err)
		}
		for _, r := range rounds {
			if err := s.Put(batch(r)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := List(root)
	if err != nil || len(got) != 2 {
		t.Fatalf("List = %+v, %v", got, err)
	}
	if got[0].Name != "postgres-0a1b2c" || got[0].Label != "label of postgres-0a1b2c" ||
		strings.Join(got[0].Rounds, " ") != "20261125T220100Z-aa 20261125T220200Z-bb" {
		t.Errorf("first spool %+v", got[0])
	}
	if got[1].Name != "storage-archive" || len(got[1].Rounds) != 0 || got[1].Label != "label of storage-archive" {
		t.Errorf("second spool %+v", got[1])
	}
	s, _ := Open(root, "postgres-0a1b2c", id)
	if n, err := s.Drop(); n != 2 || err != nil {
		t.Fatalf("Drop = %d, %v; want 2 rounds", n, err)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the emptied spool directory remains: %v", err)
	}
}
