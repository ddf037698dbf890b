package transport

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

// droppingListener resets the first drop connections it accepts, as sshd
// does to connections beyond its MaxStartups, and counts every one.
type droppingListener struct {
	net.Listener
	drop     int32
	accepted atomic.Int32
}

func (l *droppingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.accepted.Add(1) <= l.drop {
			if tcp, ok := c.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0) // close with a reset
			}
			c.Close()
			continue
		}
		return c, nil
	}
}

func TestDialRetriesTransientFailuresOnly(t *testing.T) {
	hostKey := sshdtest.NewSigner(t)
	other := sshdtest.NewSigner(t)
	tests := map[string]struct {
		drop     int32
		retries  int
		password string
		knownKey ssh.PublicKey
		wantOK   bool
		// wantKind is checked when not Other.
		wantKind  Kind
		wantConns int32
	}{
		"reset twice, then in":         {drop: 2, wantOK: true, wantConns: 3},
		"reset more than retried":      {drop: 5, retries: 1, wantConns: 2},
		"no retries asked":             {drop: 1, retries: -1, wantConns: 1},
		"wrong password not retried":   {password: "wrong", wantKind: AuthFailed, wantConns: 1},
		"changed host key not retried": {knownKey: other.PublicKey(), wantKind: HostKeyMismatch, wantConns: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ln := &droppingListener{Listener: listenLoopback(t), drop: tc.drop}
			srv := serveTestSSH(t, ln, testServerConfig(testPassword, nil, hostKey), ssh.DiscardRequests)
			known := tc.knownKey
			if known == nil {
				known = hostKey.PublicKey()
			}
			hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), known)+"\n"), false)
			if err != nil {
				t.Fatal(err)
			}
			pw := tc.password
			if pw == "" {
				pw = testPassword
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := Dial(ctx, srv.target(Auth{Password: pw}), Options{HostKeys: hk, Retries: tc.retries, KeepAlive: -1})
			t.Logf("dial: %v", err)
			switch {
			case tc.wantOK && err != nil:
				t.Fatalf("dial: %v, want success after the resets", err)
			case !tc.wantOK && err == nil:
				c.Close()
				t.Fatal("dial succeeded, want a failure")
			case tc.wantKind != Other && KindOf(err) != tc.wantKind:
				t.Fatalf("dial: %v (kind %v), want kind %v", err, KindOf(err), tc.wantKind)
			}
			if c != nil {
				c.Close()
			}
			if got := ln.accepted.Load(); got != tc.wantConns {
				t.Errorf("server saw %d connections, want %d", got, tc.wantConns)
			}
		})
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	for attempt := range 6 {
		want := min(retryBase<<attempt, retryMax)
		for range 50 {
			if d := backoff(attempt); d < want/2 || d >= want*3/2 {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v)", attempt, d, want/2, want*3/2)
			}
		}
	}
}

func TestHandshakeGateBoundsDials(t *testing.T) {
	hostKey := sshdtest.NewSigner(t)
	ln := &droppingListener{Listener: listenLoopback(t)}
	srv := serveTestSSH(t, ln, testServerConfig(testPassword, nil, hostKey), ssh.DiscardRequests)
	hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), hostKey.PublicKey())+"\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	gate := NewHandshakeGate(1)
	// The one slot is taken: a dial waits, and gives up with its context
	// without connecting.
	if err := gate.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, srv.target(Auth{Password: testPassword}), Options{HostKeys: hk, Handshakes: gate})
	if KindOf(err) != Timeout {
		t.Fatalf("dial while the gate is full: %v (kind %v), want Timeout", err, KindOf(err))
	}
	if got := ln.accepted.Load(); got != 0 {
		t.Fatalf("server saw %d connections while the gate was full, want 0", got)
	}
	// Freed, the slot lets one dial through at a time, and is given back.
	gate.leave()
	for i := range 3 {
		c, err := Dial(context.Background(), srv.target(Auth{Password: testPassword}), Options{HostKeys: hk, Handshakes: gate})
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.Close()
	}
	if len(gate.slots) != 0 {
		t.Errorf("%d slots still held after the dials", len(gate.slots))
	}
}

func TestKeepAliveClosesASilentHost(t *testing.T) {
	hostKey := sshdtest.NewSigner(t)
	tests := map[string]struct {
		// globalRequests is how the server treats keepalives.
		globalRequests func(<-chan *ssh.Request)
		wantClosed     bool
	}{
		"host answers": {globalRequests: ssh.DiscardRequests},
		"host silent": {
			globalRequests: func(reqs <-chan *ssh.Request) {
				for range reqs { // read, never answer
				}
			},
			wantClosed: true,
		},
	}
	const interval = 50 * time.Millisecond
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := serveTestSSH(t, listenLoopback(t), testServerConfig(testPassword, nil, hostKey), tc.globalRequests)
			hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), hostKey.PublicKey())+"\n"), false)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Dial(context.Background(), srv.target(Auth{Password: testPassword}), Options{HostKeys: hk, KeepAlive: interval})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ended := make(chan error, 1)
			go func() { ended <- c.ssh.Wait() }()
			select {
			case <-ended:
				if !tc.wantClosed {
					t.Fatal("the connection to a host that answers keepalives was closed")
				}
			case <-time.After(20 * interval):
				if tc.wantClosed {
					t.Fatal("the connection to a silent host is still open")
				}
				return
			}
			err = c.failure(context.Background(), "run", errors.New("EOF"))
			if KindOf(err) != Timeout {
				t.Errorf("call after the keepalives went unanswered: %v (kind %v), want Timeout", err, KindOf(err))
			}
		})
	}
}
