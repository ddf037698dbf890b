package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

func writeKey(t *testing.T, passphrase string) (path string, pub ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return path, signer.PublicKey()
}

func TestAuthMethodsRefusals(t *testing.T) {
	const passphrase = "correct horse battery"
	protected, _ := writeKey(t, passphrase)
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("-----BEGIN SECRET-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		auth     Auth
		noAgent  bool
		wantText string
		secrets  []string
	}{
		"nothing to offer":     {auth: Auth{}, wantText: "no credentials"},
		"passphrase-protected": {auth: Auth{KeyFiles: []string{protected}}, wantText: "passphrase", secrets: []string{passphrase}},
		"not a key":            {auth: Auth{KeyFiles: []string{garbage}, Password: "pw-secret"}, wantText: "not a usable private key", secrets: []string{"c2VjcmV0", "pw-secret"}},
		"missing key file":     {auth: Auth{KeyFiles: []string{filepath.Join(t.TempDir(), "none")}}, wantText: "read key file"},
		"agent without socket": {auth: Auth{UseAgent: true}, noAgent: true, wantText: "SSH_AUTH_SOCK"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.noAgent {
				t.Setenv("SSH_AUTH_SOCK", "")
			}
			// Parsed on its own, then through KeyFiles twice: the
			// second time from what the first kept.
			keys := NewKeyFiles()
			for _, k := range []*KeyFiles{nil, keys, keys} {
				_, _, err := authMethods(tc.auth, k)
				if KindOf(err) != Config || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("err = %v (kind %v), want a config error mentioning %q", err, KindOf(err), tc.wantText)
				}
				for _, s := range tc.secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q reveals %q", err, s)
					}
				}
			}
		})
	}
}

// TestKeyFilesParseOnce: Dials sharing a KeyFiles read and parse a key
// file once (the second still authenticates once the file is gone), the
// same signer for every caller at once; a Dial without one reads it again.
func TestKeyFilesParseOnce(t *testing.T) {
	keyFile, pub := writeKey(t, "")
	hostKey := sshdtest.NewSigner(t)
	srv := startTestServer(t, "", pub, hostKey)
	hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), hostKey.PublicKey())+"\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	keys := NewKeyFiles()
	dial := func(keys *KeyFiles) error {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		c, err := Dial(ctx, srv.target(Auth{KeyFiles: []string{keyFile}}), Options{HostKeys: hk, KeyFiles: keys})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(keys); err != nil {
		t.Fatalf("first dial: %v", err)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if err := dial(keys); err != nil {
		t.Fatalf("second dial through the same KeyFiles, the file gone: %v", err)
	}
	if err := dial(nil); KindOf(err) != Config || !strings.Contains(err.Error(), "read key file") {
		t.Fatalf("dial without KeyFiles, the file gone: %v; want the file read again and missing", err)
	}

	signers := make(chan ssh.Signer, 8)
	for range cap(signers) {
		go func() {
			s, err := keys.load(keyFile)
			if err != nil {
				t.Error(err)
			}
			signers <- s
		}()
	}
	first := <-signers
	for range cap(signers) - 1 {
		if s := <-signers; s != first {
			t.Fatal("KeyFiles gave concurrent callers different signers for one file")
		}
	}
	if first == nil || !bytes.Equal(first.PublicKey().Marshal(), pub.Marshal()) {
		t.Fatal("KeyFiles gave no signer, or not the file's key")
	}
}

func TestDialAuthenticatesWithKeyFileAndAgent(t *testing.T) {
	keyFile, filePub := writeKey(t, "")

	_, agentPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: agentPriv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(keyring, c)
			}()
		}
	}()
	agentSigner, err := ssh.NewSignerFromKey(agentPriv)
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		authorized ssh.PublicKey
		auth       Auth
	}{
		"key file": {authorized: filePub, auth: Auth{KeyFiles: []string{keyFile}}},
		"agent":    {authorized: agentSigner.PublicKey(), auth: Auth{UseAgent: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SSH_AUTH_SOCK", sock)
			hostKey := sshdtest.NewSigner(t)
			srv := startTestServer(t, "", tc.authorized, hostKey)
			hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), hostKey.PublicKey())+"\n"), false)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, srv.target(tc.auth), Options{HostKeys: hk})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.Close()
		})
	}
}

func TestDialRefusesWithoutHostKeys(t *testing.T) {
	_, err := Dial(context.Background(), Target{Host: "127.0.0.1", Port: 1, Auth: Auth{Password: "x"}}, Options{})
	if KindOf(err) != Config {
		t.Fatalf("err = %v, want a config error", err)
	}
}

func TestDialWrongPasswordIsAuthFailed(t *testing.T) {
	hostKey := sshdtest.NewSigner(t)
	srv := startTestServer(t, testPassword, nil, hostKey)
	hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), hostKey.PublicKey())+"\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "wrong-password-123"
	_, err = Dial(context.Background(), srv.target(Auth{Password: wrong}), Options{HostKeys: hk})
	if KindOf(err) != AuthFailed {
		t.Fatalf("err = %v, want AuthFailed", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error reveals the password: %v", err)
	}
}
