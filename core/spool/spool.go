// Package spool keeps rounds that a storage backend could not take, so that
// nothing is lost when the database is down: each batch is written to
// <dir>/<storage name>/<round id>.age, encrypted at rest to the core's age
// key, and replayed (oldest first) before the next round's batch.
package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// maxFile bounds one spooled batch read back from disk.
const maxFile = 256 << 20

// Spool is the spool directory of one storage backend.
type Spool struct {
	dir string
	id  *age.X25519Identity
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Open returns the spool for the storage named name under root (created
// 0700 on first write). Batches are encrypted to id and decrypted with it.
func Open(root, name string, id *age.X25519Identity) (*Spool, error) {
	if !safeName.MatchString(name) {
		return nil, fmt.Errorf("spool: storage name %q is not a safe directory name", name)
	}
	return &Spool{dir: filepath.Join(root, name), id: id}, nil
}

// Dir is where the spool keeps its files.
func (s *Spool) Dir() string { return s.dir }

// Put writes b to the spool. Writing the same round again replaces it.
func (s *Spool) Put(b *storage.Batch) error {
	if !safeName.MatchString(b.RoundID) {
		return fmt.Errorf("spool: round id %q is not a safe file name", b.RoundID)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("spool: creating %s: %w", s.dir, err)
	}
	plain, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("spool: encoding round %s: %w", b.RoundID, err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, s.id.Recipient())
	if err != nil {
		return fmt.Errorf("spool: encrypting round %s: %w", b.RoundID, err)
	}
	if _, err := w.Write(plain); err != nil {
		return fmt.Errorf("spool: encrypting round %s: %w", b.RoundID, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("spool: encrypting round %s: %w", b.RoundID, err)
	}
	tmp, err := os.CreateTemp(s.dir, ".put-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("spool: writing round %s: %w", b.RoundID, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("spool: writing round %s: %w", b.RoundID, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("spool: writing round %s: %w", b.RoundID, err)
	}
	if err := os.Rename(tmp.Name(), s.path(b.RoundID)); err != nil {
		return fmt.Errorf("spool: writing round %s: %w", b.RoundID, err)
	}
	return nil
}

func (s *Spool) path(roundID string) string { return filepath.Join(s.dir, roundID+".age") }

// Pending lists the spooled round ids, oldest first (round ids sort by time).
func (s *Spool) Pending() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: reading %s: %w", s.dir, err)
	}
	var ids []string
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".age"); ok && e.Type().IsRegular() && safeName.MatchString(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Get reads one spooled round.
func (s *Spool) Get(roundID string) (*storage.Batch, error) {
	f, err := os.Open(s.path(roundID))
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	r, err := age.Decrypt(io.LimitReader(f, maxFile), s.id)
	if err != nil {
		return nil, fmt.Errorf("spool: decrypting round %s (was the core key replaced?): %w", roundID, err)
	}
	var b storage.Batch
	if err := json.NewDecoder(r).Decode(&b); err != nil {
		return nil, fmt.Errorf("spool: decoding round %s: %w", roundID, err)
	}
	return &b, nil
}

// Remove deletes a replayed round.
func (s *Spool) Remove(roundID string) error {
	if err := os.Remove(s.path(roundID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// Writer is the part of a storage backend that replay needs.
type Writer interface {
	WriteBatch(ctx context.Context, b *storage.Batch) error
}

// Replay writes every spooled round to w, oldest first, removing each one
// that was stored. It stops at the first failure (the backend is likely
// still down) and returns how many rounds were replayed.
func (s *Spool) Replay(ctx context.Context, w Writer) (int, error) {
	ids, err := s.Pending()
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		b, err := s.Get(id)
		if err != nil {
			return i, err
		}
		if err := w.WriteBatch(ctx, b); err != nil {
			return i, fmt.Errorf("replaying round %s: %w", id, err)
		}
		if err := s.Remove(id); err != nil {
			return i + 1, err
		}
	}
	return len(ids), nil
}

// labelFile names, in a spool's directory, the storage it was spooled for
// as messages name it ("postgres postgres://cscs@db:5432/cscs"): the spool
// directory's name alone is a hash for the built-in databases.
const labelFile = "storage.txt"

// maxLabel bounds a label read back from disk.
const maxLabel = 1000

// SetLabel records which storage the spool holds rounds for, as messages
// name it. The label is shown by List; it must not hold a secret.
func (s *Spool) SetLabel(label string) error {
	if s.Label() == label {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("spool: creating %s: %w", s.dir, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, labelFile), []byte(label+"\n"), 0o600); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// Label is the label SetLabel recorded, or "" when none was.
func (s *Spool) Label() string {
	f, err := os.Open(filepath.Join(s.dir, labelFile))
	if err != nil {
		return ""
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, maxLabel))
	return strings.TrimSpace(string(data))
}

// Info is what waits in one storage's spool.
type Info struct {
	// Name is the spool's directory name ("sqlite-3f9a1c2b4d5e",
	// "storage-warehouse").
	Name string
	// Label names its storage as messages do; "" when it is not known
	// (spooled by a cscs older than labels).
	Label string
	// Rounds are the ids of the rounds that wait, oldest first.
	Rounds []string
}

// List lists the spools under root, by name, with what waits in each;
// none when nothing was ever spooled. A spool that cannot be read is left
// out, with its error joined in the returned one.
func List(root string) ([]Info, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: reading %s: %w", root, err)
	}
	var out []Info
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !safeName.MatchString(e.Name()) {
			continue
		}
		s := &Spool{dir: filepath.Join(root, e.Name())}
		ids, err := s.Pending()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Info{Name: e.Name(), Label: s.Label(), Rounds: ids})
	}
	return out, errors.Join(errs...)
}

// Drop deletes every round waiting in the spool and its label, and the
// directory when nothing else is in it; it returns how many rounds it
// deleted.
func (s *Spool) Drop() (int, error) {
	ids, err := s.Pending()
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.Remove(id); err != nil {
			return i, err
		}
	}
	if err := os.Remove(filepath.Join(s.dir, labelFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return len(ids), fmt.Errorf("spool: %w", err)
	}
	_ = os.Remove(s.dir) // only when empty
	return len(ids), nil
}
