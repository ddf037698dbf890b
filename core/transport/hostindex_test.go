package transport

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

// TestPlainIndexAgreesWithKnownhosts: for a file of plain lines the index
// gives knownhosts' verdict on every address and key (the same keys on
// record, in the same order, with their lines); a file with any other line
// has no index.
func TestPlainIndexAgreesWithKnownhosts(t *testing.T) {
	a, b, other := sshdtest.NewSigner(t).PublicKey(), sshdtest.NewSigner(t).PublicKey(), sshdtest.NewSigner(t).PublicKey()
	line := func(patterns string, k ssh.PublicKey) string {
		return patterns + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	plain := strings.Join([]string{
		"# cscs known hosts",
		line("127.0.0.1", a),
		"",
		line("[127.0.0.2]:2200", a),
		line("host-a,host-b", b),
		line("[fd00::1]:22", a),
		line("fd00::2", b),
		line("127.0.0.1", b),
		line("h:2222", a),
		"   " + line("[127.0.0.3]:2201", b) + "   ",
	}, "\n") + "\n"
	files := map[string]struct {
		content string
		indexed bool
	}{
		"plain":      {content: plain, indexed: true},
		"empty":      {content: "", indexed: true},
		"wildcard":   {content: plain + line("*.example.org", a) + "\n"},
		"negation":   {content: plain + line("!bad.example.org,good.example.org", a) + "\n"},
		"hashed":     {content: plain + line(knownhosts.HashHostname("127.0.0.9"), a) + "\n"},
		"revoked":    {content: plain + "@revoked " + line("*", other) + "\n"},
		"authority":  {content: plain + "@cert-authority " + line("*.example.org", other) + "\n"},
		"unreadable": {content: plain + "127.0.0.8 ssh-ed25519 not-base64!\n"},
	}
	remote := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 22}
	probes := []struct {
		address string
		key     ssh.PublicKey
	}{
		{"127.0.0.1:22", a}, {"127.0.0.1:22", b}, {"127.0.0.1:22", other},
		{"127.0.0.1:2200", a}, {"127.0.0.2:2200", a}, {"127.0.0.2:2200", b}, {"127.0.0.2:22", a},
		{"host-a:22", b}, {"host-b:22", a}, {"host-c:22", b},
		{"[fd00::1]:22", a}, {"[fd00::1]:2200", a}, {"[fd00::2]:22", b}, {"[fd00::2]:22", a},
		{"h:2222", a}, {"h:22", a}, {"127.0.0.3:2201", b},
		{"", a}, {"", other},
	}
	for name, f := range files {
		t.Run(name, func(t *testing.T) {
			path := knownHostsFile(t, f.content)
			h, err := NewHostKeys(path, false)
			if err != nil {
				t.Fatal(err)
			}
			if (h.index != nil) != f.indexed {
				t.Fatalf("index = %v, want one: %t", h.index, f.indexed)
			}
			for _, p := range probes {
				indexed, got := h.index.check(p.address, remote, p.key)
				if indexed != f.indexed {
					t.Fatalf("%q: answered by the index %t, want %t", p.address, indexed, f.indexed)
				}
				if !indexed {
					continue
				}
				want := h.known(p.address, remote, p.key)
				if !sameVerdict(got, want) {
					t.Errorf("%q %s: index says %v, knownhosts %v", p.address, ssh.FingerprintSHA256(p.key), got, want)
				}
				keys, _ := h.index.keys(p.address, remote)
				var probed *knownhosts.KeyError
				if errors.As(h.known(p.address, remote, probeKey{}), &probed) && !sameKeys(keys, probed.Want) {
					t.Errorf("%q: index lists %v, knownhosts %v", p.address, keys, probed.Want)
				}
			}
		})
	}
}

// sameVerdict reports whether two host key checks agree: both nil, or
// both a *knownhosts.KeyError listing the same keys.
func sameVerdict(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var ka, kb *knownhosts.KeyError
	return errors.As(a, &ka) && errors.As(b, &kb) && sameKeys(ka.Want, kb.Want)
}

func sameKeys(a, b []knownhosts.KnownKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Line != b[i].Line || a[i].Filename != b[i].Filename || !bytes.Equal(a[i].Key.Marshal(), b[i].Key.Marshal()) {
			return false
		}
	}
	return true
}
