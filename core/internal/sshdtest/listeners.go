package sshdtest

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// StartNoSSH listens on a loopback port that accepts TCP connections and
// never sends a byte, the way a hung or wrong service does. It returns the
// "ip:port"; the listener and every accepted connection are closed when the
// test ends.
func StartNoSSH(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("sshdtest: listen for a silent port: %v", err)
	}
	var (
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					tb.Logf("sshdtest: silent port stopped accepting: %v", err)
				}
				return
			}
			mu.Lock()
			if closed {
				c.Close()
			} else {
				conns = append(conns, c)
			}
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// ClosedAddr returns a loopback "ip:port" on which nothing listens: a
// connection to it is refused.
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("sshdtest: find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatalf("sshdtest: release port %s: %v", addr, err)
	}
	return addr
}
