package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// BenchmarkAuthMethods is what a Dial spends on the operator's key file
// before it connects: read and parsed every time (no KeyFiles) or once for
// the round (a shared KeyFiles, as a round's collector has), for the key
// types operators hold.
func BenchmarkAuthMethods(b *testing.B) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		name string
		key  any
	}{{"ed25519", ed}, {"rsa3072", rsaKey}} {
		block, err := ssh.MarshalPrivateKey(k.key, "")
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "id_"+k.name)
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			b.Fatal(err)
		}
		auth := Auth{KeyFiles: []string{path}}
		for _, mode := range []string{"every-dial", "once-a-round"} {
			b.Run(k.name+"/"+mode, func(b *testing.B) {
				var keys *KeyFiles
				if mode == "once-a-round" {
					keys = NewKeyFiles()
				}
				for b.Loop() {
					if _, _, err := authMethods(auth, keys); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
