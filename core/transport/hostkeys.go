package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// AcceptNewHostKeysFlag is the command-line flag the error for an unknown
// host tells the operator to use.
const AcceptNewHostKeysFlag = "--accept-new-host-keys"

// HostKeys verifies host keys against an OpenSSH known_hosts file. A
// changed key is always refused; an unknown host is refused, or trusted on
// first use and appended to the file when acceptNew is set. One HostKeys is
// safe for many concurrent dials.
type HostKeys struct {
	path      string
	acceptNew bool
	// known checks against the file as it was read by NewHostKeys; index
	// answers for it in one lookup when every line is plain.
	known ssh.HostKeyCallback
	index plainIndex

	mu sync.Mutex
	// added holds the keys this HostKeys appended, by normalized address.
	added map[string][]knownhosts.KnownKey
	// lines is the file's line count, for the line numbers of appended keys.
	lines int
	// missingNewline is set when the file's last line has no newline.
	missingNewline bool
}

// NewHostKeys reads the known_hosts file at path, creating it (mode 0600,
// directory 0700) when it is missing.
func NewHostKeys(path string, acceptNew bool) (*HostKeys, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &Error{Kind: Config, Step: "known_hosts", Err: fmt.Errorf("create the directory of %s: %w", path, err)}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &Error{Kind: Config, Step: "known_hosts", Err: fmt.Errorf("open %s: %w", path, err)}
	}
	f.Close()
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Kind: Config, Step: "known_hosts", Err: fmt.Errorf("read %s: %w", path, err)}
	}
	known, err := knownhosts.New(path)
	if err != nil {
		return nil, &Error{Kind: Config, Step: "known_hosts", Err: fmt.Errorf("parse %s: %w", path, err)}
	}
	h := &HostKeys{
		path:      path,
		acceptNew: acceptNew,
		known:     known,
		index:     indexPlain(path, content),
		added:     map[string][]knownhosts.KnownKey{},
		lines:     bytes.Count(content, []byte("\n")),
	}
	if len(content) > 0 && content[len(content)-1] != '\n' {
		h.lines++
		h.missingNewline = true
	}
	return h, nil
}

// Path is the known_hosts file.
func (h *HostKeys) Path() string { return h.path }

// knownKeys lists the keys on record for address ("host:port") reached at
// remote: those in the file and those appended since it was read.
func (h *HostKeys) knownKeys(address string, remote net.Addr) []knownhosts.KnownKey {
	keys, indexed := h.index.keys(address, remote)
	keys = slices.Clone(keys)
	var keyErr *knownhosts.KeyError
	// A key that matches no line makes knownhosts list every key it has
	// for the address.
	if !indexed && errors.As(h.known(address, remote, probeKey{}), &keyErr) {
		keys = append(keys, keyErr.Want...)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return append(keys, h.added[knownhosts.Normalize(address)]...)
}

// hostKeyAlgorithms returns the host key algorithms that can yield one of
// keys, so that a host offering several key types presents the one on
// record; nil when nothing is on record.
func hostKeyAlgorithms(keys []knownhosts.KnownKey) []string {
	var algos []string
	seen := map[string]bool{}
	for _, k := range keys {
		for _, a := range algorithmsForKeyType(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsForKeyType(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// check is the ssh.HostKeyCallback.
func (h *HostKeys) check(address string, remote net.Addr, key ssh.PublicKey) error {
	indexed, err := h.index.check(address, remote, key)
	if !indexed {
		err = h.known(address, remote, key)
	}
	if err == nil {
		return nil
	}
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.As(err, &revoked):
		return &Error{Kind: HostKeyMismatch, Step: "handshake", Err: fmt.Errorf(
			"host %s offered %s key %s, which %s:%d marks as @revoked: the host must get a new key",
			address, key.Type(), ssh.FingerprintSHA256(key), revoked.Revoked.Filename, revoked.Revoked.Line)}
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return mismatchError(address, key, keyErr.Want)
	case errors.As(err, &keyErr):
		return h.checkNew(address, key)
	}
	return &Error{Kind: Other, Step: "handshake", Err: fmt.Errorf("check host key of %s: %w", address, err)}
}

// checkNew handles a host the file does not know: one appended earlier by
// this HostKeys, or a new host to trust or refuse.
func (h *HostKeys) checkNew(address string, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	normalized := knownhosts.Normalize(address)
	if added := h.added[normalized]; len(added) > 0 {
		for _, k := range added {
			if bytes.Equal(k.Key.Marshal(), key.Marshal()) {
				return nil
			}
		}
		return mismatchError(address, key, added)
	}
	if !h.acceptNew {
		host, port, _ := net.SplitHostPort(address)
		return &Error{Kind: HostKeyUnknown, Step: "handshake", Err: fmt.Errorf(
			"host %s is not in %s (it offered %s key %s): check that fingerprint with the host's administrator and add the key "+
				"(ssh-keyscan -p %s %s >> %s), or run with %s to trust new hosts on first use",
			address, h.path, key.Type(), ssh.FingerprintSHA256(key), port, host, h.path, AcceptNewHostKeysFlag)}
	}
	line, err := h.appendLocked(knownhosts.Line([]string{normalized}, key))
	if err != nil {
		return &Error{Kind: Config, Step: "handshake", Err: fmt.Errorf("record the key of new host %s: %w", address, err)}
	}
	h.added[normalized] = append(h.added[normalized], knownhosts.KnownKey{Key: key, Filename: h.path, Line: line})
	return nil
}

// appendLocked appends one line to the file, synced to disk, and returns
// its line number. h.mu is held.
func (h *HostKeys) appendLocked(line string) (int, error) {
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	text := line + "\n"
	if h.missingNewline {
		text = "\n" + text
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return 0, fmt.Errorf("write %s: %w", h.path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, fmt.Errorf("sync %s: %w", h.path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", h.path, err)
	}
	h.missingNewline = false
	h.lines++
	return h.lines, nil
}

func mismatchError(address string, key ssh.PublicKey, want []knownhosts.KnownKey) error {
	var held []string
	for _, k := range want {
		held = append(held, fmt.Sprintf("%s:%d (%s %s)", k.Filename, k.Line, k.Key.Type(), ssh.FingerprintSHA256(k.Key)))
	}
	first := want[0]
	return &Error{Kind: HostKeyMismatch, Step: "handshake", Err: fmt.Errorf(
		"host key of %s has changed: it offered %s key %s, but %s holds a different key; "+
			"someone may be intercepting the connection, or the host was reinstalled: "+
			"if the change is expected, delete line %d of %s and connect again",
		address, key.Type(), ssh.FingerprintSHA256(key), strings.Join(held, ", "), first.Line, first.Filename)}
}

// probeKey is a key no known_hosts line can hold; checking it makes
// knownhosts list every key it has for an address.
type probeKey struct{}

func (probeKey) Type() string    { return "cscs-probe@cscs.invalid" }
func (probeKey) Marshal() []byte { return []byte("\x00\x00\x00\x17cscs-probe@cscs.invalid") }
func (probeKey) Verify([]byte, *ssh.Signature) error {
	return errors.New("probe key verifies nothing")
}
