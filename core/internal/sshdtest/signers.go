package sshdtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"golang.org/x/crypto/ssh"
)

// NewSigner returns a fresh ed25519 signer, a host or client key for a
// test that needs no key file.
func NewSigner(tb testing.TB) ssh.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return signerOf(tb, priv, err)
}

// NewECDSASigner returns a fresh ECDSA P-256 signer, for a test that
// needs a second key type.
func NewECDSASigner(tb testing.TB) ssh.Signer {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return signerOf(tb, priv, err)
}

// signerOf turns a freshly generated private key into a signer; err is
// the generator's.
func signerOf(tb testing.TB, priv crypto.Signer, err error) ssh.Signer {
	tb.Helper()
	if err != nil {
		tb.Fatalf("sshdtest: generate key: %v", err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatalf("sshdtest: make signer: %v", err)
	}
	return s
}
