package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Name is the storage's name in configuration and `cscs plugins list`.
const Name = "jsonl"

// version is reported by Describe.
const version = "0.1.0"

// Store appends one JSON line (a Record) per host and round to a file. It
// keeps the keys it has written (round ID, host IP, host port) in memory,
// rebuilt from the file by Open, so that writing a batch again adds only
// what is missing. One Store, in one process, must own the file.
type Store struct {
	mu   sync.Mutex
	path string
	file *os.File
	// size is the file's length after the last complete write; a failed
	// write is cut back to it.
	size  int64
	index map[recordKey]struct{}
}

var _ storage.Storage = (*Store)(nil)

// Config is the storage's configuration, a JSON object:
//
//	{"path": "/var/lib/cscs/rounds.jsonl"}
type Config struct {
	// Path is the file to append to; created (mode 0600, with missing
	// directories) when absent. A relative path is relative to the
	// directory cscs runs in.
	Path string `json:"path"`
}

// configSchema declares Config to the core, which checks an operator's
// block against it; parseConfig still checks it itself.
func configSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "path", Type: schema.String, Required: true,
			Description: "file to append to, created when absent; relative to the directory cscs runs in"},
	}}
}

// Describe names the storage and declares its configuration; it works
// before Open.
func (s *Store) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: Name, Version: version, Config: configSchema()}, nil
}

// Open opens (or creates) the configured file and reads the keys already
// in it. A last line without its newline is completed when it is a
// record (an editor dropped the newline) and removed otherwise (a write
// cut short by a crash); any other line that is not a record is an error
// naming it. Calling Open again closes the previous file first.
func (s *Store) Open(ctx context.Context, config []byte) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closeLocked(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return fmt.Errorf("jsonl storage: create the directory of %s: %w", cfg.Path, err)
	}
	// Not O_APPEND: writes go at s.size (see appendLocked), and Windows
	// does not let an append-only handle cut a file back.
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("jsonl storage: open %s: %w", cfg.Path, err)
	}
	index, size, err := readIndex(ctx, f, cfg.Path)
	if err != nil {
		_ = f.Close()
		return err
	}
	s.path, s.file, s.size, s.index = cfg.Path, f, size, index
	return nil
}

// WriteBatch appends a line for every collection of b whose key is not in
// the file yet, in one write followed by fsync. When the write fails the
// file is cut back to where it was, so a retry starts clean.
func (s *Store) WriteBatch(ctx context.Context, b *storage.Batch) error {
	if b == nil {
		return errors.New("jsonl storage: WriteBatch got no batch")
	}
	if b.RoundID == "" {
		return errors.New("jsonl storage: the batch has no round ID, which keeps repeated writes from duplicating lines")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return errors.New("jsonl storage: WriteBatch before Open; open the storage with its configuration first")
	}

	var buf bytes.Buffer
	added := make(map[recordKey]struct{})
	for _, c := range b.Collections {
		r := newRecord(b, c)
		k := r.key()
		if _, done := s.index[k]; done {
			continue
		}
		if _, done := added[k]; done {
			continue // the same host twice in one batch: keep the first
		}
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("jsonl storage: encode the collection of %s:%d in round %s: %w", c.HostIP, c.HostPort, b.RoundID, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		added[k] = struct{}{}
	}
	if buf.Len() == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jsonl storage: round %s not written: %w", b.RoundID, err)
	}
	if err := s.appendLocked(buf.Bytes()); err != nil {
		return fmt.Errorf("jsonl storage: append round %s to %s: %w", b.RoundID, s.path, err)
	}
	for k := range added {
		s.index[k] = struct{}{}
	}
	return nil
}

// appendLocked writes data at the end of the file and syncs it, or cuts
// the file back to its previous size.
func (s *Store) appendLocked(data []byte) error {
	_, err := s.file.WriteAt(data, s.size)
	if err == nil {
		err = s.file.Sync()
	}
	if err != nil {
		if cutErr := s.file.Truncate(s.size); cutErr != nil {
			return errors.Join(err, fmt.Errorf("cut the partial write back: %w", cutErr))
		}
		return err
	}
	s.size += int64(len(data))
	return nil
}

// Close closes the file. It is safe to call more than once and without
// Open.
func (s *Store) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *Store) closeLocked() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file, s.index, s.size = nil, nil, 0
	if err != nil {
		return fmt.Errorf("jsonl storage: close %s: %w", s.path, err)
	}
	return nil
}

// parseConfig decodes a configuration strictly: a misspelt key is an
// error, not a silently ignored setting.
func parseConfig(raw []byte) (Config, error) {
	const want = `give {"path": "/path/to/rounds.jsonl"}`
	if len(bytes.TrimSpace(raw)) == 0 {
		return Config{}, errors.New("jsonl storage: no configuration; " + want)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("jsonl storage: configuration is not a JSON object with the key \"path\" (%w); %s", err, want)
	}
	if dec.More() {
		return Config{}, errors.New("jsonl storage: configuration has data after its JSON object; " + want)
	}
	if c.Path == "" {
		return Config{}, errors.New(`jsonl storage: "path" is missing; ` + want)
	}
	c.Path = filepath.Clean(c.Path)
	return c, nil
}

// readIndex reads the keys of every record in f and repairs an
// unterminated last line (see Open). It returns the keys and the file's
// size afterwards.
func readIndex(ctx context.Context, f *os.File, path string) (map[recordKey]struct{}, int64, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("jsonl storage: inspect %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("jsonl storage: %s is not a regular file; set \"path\" to a file", path)
	}
	index := make(map[recordKey]struct{})
	r := bufio.NewReader(io.NewSectionReader(f, 0, info.Size()))
	var offset int64
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			size, err := repairLastLine(f, path, lineNo, offset, line, index)
			return index, size, err
		}
		if err != nil {
			return nil, 0, fmt.Errorf("jsonl storage: read %s: %w", path, err)
		}
		offset += int64(len(line))
		if lineNo%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, fmt.Errorf("jsonl storage: read %s: %w", path, err)
			}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		k, err := parseKey(line)
		if err != nil {
			return nil, 0, fmt.Errorf("jsonl storage: %s:%d: %w; fix or remove that line", path, lineNo, err)
		}
		index[k] = struct{}{}
	}
}

// parseKey reads the key of one line.
func parseKey(line []byte) (recordKey, error) {
	var r struct {
		RoundID  string `json:"round_id"`
		HostIP   string `json:"host_ip"`
		HostPort int    `json:"host_port"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return recordKey{}, fmt.Errorf("not a JSON record: %w", err)
	}
	if r.RoundID == "" || r.HostIP == "" {
		return recordKey{}, errors.New(`record has no "round_id" or no "host_ip"`)
	}
	return recordKey{roundID: r.RoundID, hostIP: r.HostIP, port: r.HostPort}, nil
}

// repairLastLine handles line, the unterminated end of the file at
// offset: a record gets its newline, anything else is cut off.
func repairLastLine(f *os.File, path string, lineNo int, offset int64, line []byte, index map[recordKey]struct{}) (int64, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return offset + int64(len(line)), nil
	}
	if k, err := parseKey(line); err == nil {
		end := offset + int64(len(line))
		if _, err := f.WriteAt([]byte{'\n'}, end); err != nil {
			return 0, fmt.Errorf("jsonl storage: end line %d of %s with a newline: %w", lineNo, path, err)
		}
		index[k] = struct{}{}
		return end + 1, nil
	}
	// A write cut short: its batch was never acknowledged, and the core
	// will write it again.
	if err := f.Truncate(offset); err != nil {
		return 0, fmt.Errorf("jsonl storage: cut the unfinished last line %d of %s: %w", lineNo, path, err)
	}
	return offset, nil
}
