package sshfleet

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const (
	testUser     = "operator"
	testPassword = "correct horse battery staple"
)

// startFleet starts a fleet that is closed when the test ends.
func startFleet(t *testing.T, opts Options) *Fleet {
	t.Helper()
	if opts.User == "" {
		opts.User = testUser
	}
	if opts.Password == "" && opts.AuthorizedKey == nil {
		opts.Password = testPassword
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f
}

// knownHostsCallback writes the fleet's known_hosts to a file and loads it
// the way a real client does.
func knownHostsCallback(t *testing.T, f *Fleet) ssh.HostKeyCallback {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, f.KnownHosts(), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		t.Fatalf("knownhosts.New: %v", err)
	}
	return cb
}

func passwordConfig(hostKeys ssh.HostKeyCallback, user, password string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: hostKeys,
		Timeout:         10 * time.Second,
	}
}

// dial connects to h with the test credentials; the client is closed when
// the test ends.
func dial(t *testing.T, f *Fleet, h Host) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", h.Addr(), passwordConfig(knownHostsCallback(t, f), testUser, testPassword))
	if err != nil {
		t.Fatalf("dial %s: %v", h.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitGoroutines polls until at most limit goroutines remain.
func waitGoroutines(limit int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}
