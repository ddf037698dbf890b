package transport

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testServer is an in-process x/crypto SSH server that authenticates and
// then refuses every channel: enough to test dialing and host keys.
type testServer struct {
	host string
	port int
}

func (s testServer) target(auth Auth) Target {
	return Target{Host: s.host, Port: s.port, User: "tester", Auth: auth}
}

// startTestServer serves on a loopback port with the given host keys,
// accepting the password and, if not nil, the public key authorized.
func startTestServer(t *testing.T, password string, authorized ssh.PublicKey, hostKeys ...ssh.Signer) testServer {
	t.Helper()
	return serveTestSSH(t, listenLoopback(t), testServerConfig(password, authorized, hostKeys...), ssh.DiscardRequests)
}

// testServerConfig accepts the password and, if not nil, the public key
// authorized.
func testServerConfig(password string, authorized ssh.PublicKey, hostKeys ...ssh.Signer) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if password != "" && string(pw) == password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if authorized != nil && string(key.Marshal()) == string(authorized.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveTestSSH serves SSH with cfg on ln until the test ends: global
// requests go to globalRequests, every channel is refused.
func serveTestSSH(t *testing.T, ln net.Listener, cfg *ssh.ServerConfig, globalRequests func(<-chan *ssh.Request)) testServer {
	t.Helper()
	return serveTestSSHChannels(t, ln, cfg, globalRequests, func(ch ssh.NewChannel) {
		ch.Reject(ssh.Prohibited, "test server runs nothing")
	})
}

// serveTestSSHChannels is serveTestSSH with every new channel handed to
// channel, each in its own goroutine.
func serveTestSSHChannels(t *testing.T, ln net.Listener, cfg *ssh.ServerConfig, globalRequests func(<-chan *ssh.Request), channel func(ssh.NewChannel)) testServer {
	t.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				c.Close()
			}
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				_, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go globalRequests(reqs)
				var chs sync.WaitGroup
				for ch := range chans {
					chs.Go(func() { channel(ch) })
				}
				chs.Wait()
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	addr := ln.Addr().(*net.TCPAddr)
	return testServer{host: addr.IP.String(), port: addr.Port}
}

func (s testServer) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }
