package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Defaults for the zero Options fields.
const (
	DefaultConnectTimeout   = 10 * time.Second
	DefaultHandshakeTimeout = 15 * time.Second
)

// Target is one host to reach.
type Target struct {
	Host string // name or IP address
	Port int    // 0 means 22
	User string
	Auth Auth
}

// Addr is the target's "host:port".
func (t Target) Addr() string {
	port := t.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(port))
}

// Options control how Dial connects.
type Options struct {
	// ConnectTimeout bounds the TCP connect (default 10s).
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds the SSH handshake and authentication, so a
	// port that accepts TCP but never speaks SSH fails (default 15s).
	HandshakeTimeout time.Duration
	// HostKeys verifies the host's key. Required.
	HostKeys *HostKeys
	// RemoteDir, when set, replaces the detected private remote directory
	// (Platform.RemoteDir) for the agent.
	RemoteDir string
}

// Client is an authenticated SSH connection to one host. Its methods are
// meant to be called one at a time.
type Client struct {
	addr      string
	ssh       *ssh.Client
	remoteDir string
	// stopWatch ends the watch that closes the connection when the
	// Dial context is done.
	stopWatch func() bool
	closeOnce sync.Once
	closeErr  error
}

// Dial connects to t, verifies its host key and authenticates. Cancelling
// ctx at any time, also after Dial returned, closes the connection, so
// every blocking call on the Client returns promptly.
func Dial(ctx context.Context, t Target, o Options) (*Client, error) {
	if o.HostKeys == nil {
		return nil, &Error{Kind: Config, Step: "dial", Err: errors.New("no known_hosts configured: host keys must be verified")}
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	addr := t.Addr()
	methods, agentConn, err := authMethods(t.Auth)
	if err != nil {
		return nil, err
	}
	defer agentConn.Close()

	dialer := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, classify(ctx, "dial", fmt.Errorf("connect to %s: %w", addr, err))
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true) // small request/response exchanges
	}
	stopWatch := context.AfterFunc(ctx, func() { conn.Close() })

	known := o.HostKeys.knownKeys(addr, conn.RemoteAddr())
	config := &ssh.ClientConfig{
		User:              t.User,
		Auth:              methods,
		HostKeyCallback:   o.HostKeys.check,
		HostKeyAlgorithms: hostKeyAlgorithms(known),
	}
	if err := conn.SetDeadline(time.Now().Add(o.HandshakeTimeout)); err != nil {
		stopWatch()
		conn.Close()
		return nil, classify(ctx, "handshake", err)
	}
	sshConn, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		stopWatch()
		conn.Close()
		return nil, handshakeError(ctx, addr, t.User, o.HandshakeTimeout, known, err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		stopWatch()
		sshConn.Close()
		return nil, classify(ctx, "handshake", err)
	}
	return &Client{
		addr:      addr,
		ssh:       ssh.NewClient(sshConn, chans, reqs),
		remoteDir: o.RemoteDir,
		stopWatch: stopWatch,
	}, nil
}

// handshakeError explains a failed handshake.
func handshakeError(ctx context.Context, addr, user string, timeout time.Duration, known []knownhosts.KnownKey, err error) error {
	var algErr *ssh.AlgorithmNegotiationError
	if errors.As(err, &algErr) && algErr.What == "host key" && len(known) > 0 {
		return &Error{Kind: HostKeyMismatch, Step: "handshake", Err: fmt.Errorf(
			"host %s no longer offers the key type on record in %s:%d (%s; it offers %s): if the change is expected, delete that line and connect again: %w",
			addr, known[0].Filename, known[0].Line, known[0].Key.Type(), strings.Join(algErr.RequestedAlgorithms, ", "), err)}
	}
	e := classify(ctx, "handshake", err)
	var te *Error
	if errors.As(e, &te) && te.Err == err { // classified here, not before
		switch te.Kind {
		case Timeout:
			te.Err = fmt.Errorf("no SSH handshake with %s within %v (is it an SSH server?): %w", addr, timeout, err)
		case AuthFailed:
			te.Err = fmt.Errorf("%s refused every credential offered for user %q: check the user, password or key: %w", addr, user, err)
		case Protocol, Other:
			te.Err = fmt.Errorf("ssh handshake with %s: %w", addr, err)
		}
	}
	return e
}

// Close closes the connection.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.stopWatch()
		c.closeErr = c.ssh.Close()
		if errors.Is(c.closeErr, net.ErrClosed) {
			c.closeErr = nil
		}
	})
	return c.closeErr
}

// watch closes the connection when ctx is done before the returned stop
// function is called: a call whose context ends leaves the Client unusable.
func (c *Client) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.ssh.Close() })
}
