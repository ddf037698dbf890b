package transport

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

const testPassword = "s3cret-pw"

func knownHostsFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func lineFor(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
}

func dialTest(t *testing.T, srv testServer, hk *HostKeys) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.target(Auth{Password: testPassword}), Options{HostKeys: hk, HandshakeTimeout: 5 * time.Second})
	if err == nil {
		c.Close()
	}
	return err
}

func TestHostKeysVerdicts(t *testing.T) {
	ed := sshdtest.NewSigner(t)
	ec := sshdtest.NewECDSASigner(t)
	other := sshdtest.NewSigner(t)
	tests := map[string]struct {
		serverKeys []ssh.Signer
		// known builds the known_hosts content from the server address.
		known     func(addr string) string
		acceptNew bool
		wantKind  Kind // Other means success
		wantText  []string
	}{
		"known key": {
			serverKeys: []ssh.Signer{ed},
			known:      func(a string) string { return lineFor(a, ed.PublicKey()) + "\n" },
		},
		"unknown host refused": {
			serverKeys: []ssh.Signer{ed},
			known:      func(string) string { return "" },
			wantKind:   HostKeyUnknown,
			wantText:   []string{AcceptNewHostKeysFlag, ssh.FingerprintSHA256(ed.PublicKey()), "ssh-keyscan"},
		},
		"changed key refused": {
			serverKeys: []ssh.Signer{ed},
			known: func(a string) string {
				return "# comment\n" + lineFor(a, other.PublicKey()) + "\n"
			},
			wantKind: HostKeyMismatch,
			wantText: []string{"known_hosts:2", ssh.FingerprintSHA256(ed.PublicKey()), "delete line 2"},
		},
		"changed key refused even when accepting new hosts": {
			serverKeys: []ssh.Signer{ed},
			known:      func(a string) string { return lineFor(a, other.PublicKey()) + "\n" },
			acceptNew:  true,
			wantKind:   HostKeyMismatch,
			wantText:   []string{"known_hosts:1"},
		},
		"revoked key refused": {
			serverKeys: []ssh.Signer{ed},
			known: func(a string) string {
				return lineFor(a, ed.PublicKey()) + "\n@revoked * " + string(ssh.MarshalAuthorizedKey(ed.PublicKey()))
			},
			acceptNew: true,
			wantKind:  HostKeyMismatch,
			wantText:  []string{"@revoked", "known_hosts:2"},
		},
		// x/crypto prefers ECDSA; without pinning the algorithms to the
		// key on record the host would present its ECDSA key.
		"second key type of a multi-key host": {
			serverKeys: []ssh.Signer{ed, ec},
			known:      func(a string) string { return lineFor(a, ed.PublicKey()) + "\n" },
		},
		"first key type of a multi-key host": {
			serverKeys: []ssh.Signer{ed, ec},
			known:      func(a string) string { return lineFor(a, ec.PublicKey()) + "\n" },
		},
		"host dropped the key type on record": {
			serverKeys: []ssh.Signer{ed},
			known:      func(a string) string { return lineFor(a, ec.PublicKey()) + "\n" },
			wantKind:   HostKeyMismatch,
			wantText:   []string{"no longer offers", "known_hosts:1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := startTestServer(t, testPassword, nil, tc.serverKeys...)
			path := knownHostsFile(t, tc.known(srv.addr()))
			hk, err := NewHostKeys(path, tc.acceptNew)
			if err != nil {
				t.Fatal(err)
			}
			err = dialTest(t, srv, hk)
			if tc.wantKind == Other {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				return
			}
			if KindOf(err) != tc.wantKind {
				t.Fatalf("dial: kind %v (%v), want %v", KindOf(err), err, tc.wantKind)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestHostKeysTrustOnFirstUse(t *testing.T) {
	ed := sshdtest.NewSigner(t)
	srv := startTestServer(t, testPassword, nil, ed)
	// No trailing newline: the appended line must start on its own line.
	path := knownHostsFile(t, "# operator notes")
	hk, err := NewHostKeys(path, true)
	if err != nil {
		t.Fatal(err)
	}
	// Many concurrent dials to one new host record it once.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = dialTest(t, srv, hk) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# operator notes\n" + lineFor(srv.addr(), ed.PublicKey()) + "\n"
	if string(content) != want {
		t.Fatalf("known_hosts =\n%s\nwant\n%s", content, want)
	}

	// The recorded key is trusted by a fresh HostKeys that accepts nothing new.
	strict, err := NewHostKeys(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := dialTest(t, srv, strict); err != nil {
		t.Fatalf("dial with the recorded key: %v", err)
	}

	// Another key for the recorded host is a mismatch naming the new line.
	other := sshdtest.NewSigner(t)
	remote := &net.TCPAddr{IP: net.ParseIP(srv.host), Port: srv.port}
	err = hk.check(srv.addr(), remote, other.PublicKey())
	if KindOf(err) != HostKeyMismatch || !strings.Contains(err.Error(), fmt.Sprintf("%s:2", path)) {
		t.Fatalf("check another key: %v, want a mismatch naming %s:2", err, path)
	}
}

func TestNewHostKeysCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "known_hosts")
	hk, err := NewHostKeys(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if hk.Path() != path {
		t.Errorf("Path() = %q, want %q", hk.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if dir.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", dir.Mode().Perm())
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	ed := sshdtest.NewSigner(t).PublicKey()
	ec := sshdtest.NewECDSASigner(t).PublicKey()
	tests := map[string]struct {
		keys []ssh.PublicKey
		want []string
	}{
		"nothing on record": {want: nil},
		"one key":           {keys: []ssh.PublicKey{ed}, want: []string{ssh.KeyAlgoED25519}},
		"two keys, deduplicated": {
			keys: []ssh.PublicKey{ec, ed, ec},
			want: []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoED25519},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var known []knownhosts.KnownKey
			for _, k := range tc.keys {
				known = append(known, knownhosts.KnownKey{Key: k})
			}
			got := hostKeyAlgorithms(known)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := algorithmsForKeyType(ssh.KeyAlgoRSA); got[0] != ssh.KeyAlgoRSASHA512 {
		t.Errorf("rsa algorithms %v: want SHA-2 signatures first", got)
	}
}
