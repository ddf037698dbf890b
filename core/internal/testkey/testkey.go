// Package testkey makes the age keys tests encrypt reports and spools to.
package testkey

import (
	"bytes"
	"testing"

	"filippo.io/age"
)

// New returns a fresh X25519 identity, failing tb if none can be made.
func New(tb testing.TB) *age.X25519Identity {
	tb.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// Seal encrypts plain to to, as an agent encrypts its report, failing tb
// if it cannot.
func Seal(tb testing.TB, to age.Recipient, plain []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, to)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
