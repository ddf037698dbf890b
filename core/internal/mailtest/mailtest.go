// Package mailtest holds the SMTP servers that misbehave, for tests and
// benchmarks of mail delivery: a tarpit that accepts and never answers,
// and a port nothing listens on.
package mailtest

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
)

// Tarpit listens on a loopback port, accepts every connection and never
// answers (telling accepted, when not nil, without blocking); it returns
// the port. The connections are closed when the test ends.
func Tarpit(tb testing.TB, accepted chan<- struct{}) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu   sync.Mutex
		held []net.Conn
	)
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // held open, never greeted
			mu.Unlock()
			if accepted != nil {
				select {
				case accepted <- struct{}{}:
				default:
				}
			}
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// ClosedPort is a loopback port nothing listens on: a refused server.
func ClosedPort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// WriteEmailConfig writes an email_config.json at path that sends to port
// on 127.0.0.1, without TLS or authentication.
func WriteEmailConfig(tb testing.TB, path string, port int) {
	tb.Helper()
	email := fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "security": "none", "from": "cscs@localhost"}`, port)
	if err := os.WriteFile(path, []byte(email), 0o600); err != nil {
		tb.Fatal(err)
	}
}
