// Package identity keeps the core's long-lived age X25519 identity in the
// data directory. Agents encrypt their reports to its public key.
package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// FileName is the key file's name inside the data directory.
const FileName = "core.key"

// maxKeyFileBytes caps how much of a key file is read.
const maxKeyFileBytes = 64 << 10

// Path returns the key file's path for dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// PublicKey returns the public key ("age1...") agents encrypt to.
func PublicKey(id *age.X25519Identity) string { return id.Recipient().String() }

// LoadOrCreate returns the identity stored in <dataDir>/core.key, creating
// dataDir (0700) and the key (0600, in age's identity file format) when
// missing. created reports whether this call made the key. Several
// processes may call it at once: exactly one key wins and all return it.
func LoadOrCreate(dataDir string) (id *age.X25519Identity, created bool, err error) {
	if dataDir == "" {
		return nil, false, errors.New("no data directory given for the core key")
	}
	path := Path(dataDir)
	id, err = load(path)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory for the core key: %w", err)
	}
	created, err = create(dataDir, path, time.Now())
	if err != nil {
		return nil, false, err
	}
	// Load what is on disk: if another process won the race, its key.
	id, err = load(path)
	if err != nil {
		return nil, false, err
	}
	return id, created, nil
}

// create writes a new key to a private temporary file and links it into
// place. Linking fails rather than replacing an existing file, so a key
// another process wrote first is kept; created is false then.
func create(dataDir, path string, now time.Time) (created bool, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return false, fmt.Errorf("generate the core key: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, "."+FileName+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("create the core key file in %s: %w", dataDir, err)
	}
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath)
	// CreateTemp already uses 0600; Chmod makes that explicit.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("restrict the core key file %s: %w", tmpPath, err)
	}
	if _, err := io.WriteString(tmp, formatKeyFile(id, now)); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write the core key file %s: %w", tmpPath, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("flush the core key file %s: %w", tmpPath, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("close the core key file %s: %w", tmpPath, err)
	}
	if err := os.Link(tmpPath, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("move the new core key into place at %s: %w", path, err)
	}
	return true, nil
}

// formatKeyFile renders id the way age-keygen does: comments with the
// creation time and public key, then the secret key line.
func formatKeyFile(id *age.X25519Identity, now time.Time) string {
	var b strings.Builder
	b.WriteString("# created: " + now.UTC().Format(time.RFC3339) + "\n")
	b.WriteString("# public key: " + PublicKey(id) + "\n")
	b.WriteString(id.String() + "\n")
	return b.String()
}

// load reads and checks the key file at path. A missing file yields an
// error matching fs.ErrNotExist.
func load(path string) (*age.X25519Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("open the core key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("inspect the core key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("the core key file %s is not a regular file; move it away so a new key can be created, or restore the key file", path)
	}
	if err := checkPrivate(path, info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the core key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileBytes {
		return nil, fmt.Errorf("the core key file %s is larger than %d bytes, so it is not a key file; restore the key or move the file away", path, maxKeyFileBytes)
	}
	return parse(path, data)
}

// parse reads the one X25519 identity in data. Its errors never include
// the file's content: age's parser may quote parts of the secret.
func parse(path string, data []byte) (*age.X25519Identity, error) {
	malformed := fmt.Errorf("the core key file %s does not hold exactly one age X25519 secret key (AGE-SECRET-KEY-1...); restore it from backup, or move it away to create a new key (reports for the old key can then no longer be read)", path)
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil || len(ids) != 1 {
		return nil, malformed
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return nil, malformed
	}
	return id, nil
}
