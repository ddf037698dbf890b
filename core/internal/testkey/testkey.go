// Package testkey makes the age keys tests encrypt reports and spools to.
package testkey

import (
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
