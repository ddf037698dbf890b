package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/internal/sleep"
)

// Defaults for the zero Options fields.
const (
	DefaultConnectTimeout   = 10 * time.Second
	DefaultHandshakeTimeout = 15 * time.Second
	// DefaultKeepAlive is how often an idle-looking connection (the agent
	// still sampling, a slow module) is probed; three unanswered probes
	// in a row close it.
	DefaultKeepAlive = 15 * time.Second
	// DefaultRetries is how many times a transient failure to connect is
	// retried (see Options.Retries).
	DefaultRetries = 2
)

// keepAliveMissed is how many keepalive intervals may pass without an
// answer before the connection is closed, as OpenSSH's ServerAliveCountMax.
const keepAliveMissed = 3

// Retry backoff: the first retry waits about retryBase, each next one
// twice as long, at most retryMax; each wait is jittered by ±50 %.
const (
	retryBase = 200 * time.Millisecond
	retryMax  = 2 * time.Second
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
	// Handshakes, when set, bounds the connects and handshakes in
	// progress across every Dial that shares it, apart from how many
	// hosts are worked on at once. Nil: no bound.
	Handshakes *HandshakeGate
	// KeyFiles, when set, parses each key file of Target.Auth once across
	// every Dial that shares it. Nil: each Dial reads and parses them.
	KeyFiles *KeyFiles
	// KeepAlive is the interval of keepalive requests on the connection
	// (default DefaultKeepAlive; negative: none). A host that answers
	// none of three in a row is closed: calls on the Client then fail
	// with a Timeout error.
	KeepAlive time.Duration
	// Retries is how many times Dial tries again, with backoff, after a
	// transient failure: the connection reset or closed by the host before
	// it identified itself with its host key, as sshd does under load
	// (MaxStartups). Authentication failures, host key problems, refused
	// connections and timeouts are never retried. 0 means DefaultRetries;
	// negative means none.
	Retries int
}

// HandshakeGate bounds the SSH connects and handshakes in progress at once
// across the Dials that share it: handshakes are the CPU-heavy part of
// reaching a host, on both sides, and a burst of them makes hosts drop
// connections. It is safe for concurrent use.
type HandshakeGate struct {
	slots chan struct{}
}

// NewHandshakeGate lets n handshakes run at once (at least 1).
func NewHandshakeGate(n int) *HandshakeGate {
	return &HandshakeGate{slots: make(chan struct{}, max(n, 1))}
}

// enter waits for a slot; a nil gate has room for everyone.
func (g *HandshakeGate) enter(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *HandshakeGate) leave() {
	if g != nil {
		<-g.slots
	}
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
	// closed ends the keepalive loop; unanswered is set when the loop
	// closed the connection because the host stopped answering.
	closed     chan struct{}
	keepAlive  time.Duration
	unanswered atomic.Bool
	closeOnce  sync.Once
	closeErr   error
}

// Dial connects to t, verifies its host key and authenticates. Cancelling
// ctx at any time, also after Dial returned, closes the connection, so
// every blocking call on the Client returns promptly. A transient failure
// to connect is retried (Options.Retries).
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
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	methods, agentConn, err := authMethods(t.Auth, o.KeyFiles)
	if err != nil {
		return nil, err
	}
	defer agentConn.Close()
	for attempt := 0; ; attempt++ {
		c, transient, err := dialOnce(ctx, t, o, methods)
		if err == nil || !transient || attempt >= o.Retries {
			return c, err
		}
		if !sleep.For(ctx, backoff(attempt)) {
			return nil, err
		}
	}
}

// backoff is the jittered wait before retry attempt+1.
func backoff(attempt int) time.Duration {
	d := min(retryBase<<attempt, retryMax)
	return d/2 + rand.N(d)
}

// dialOnce is one attempt of Dial. transient reports a failure worth
// another attempt: the connection was reset or closed before the host
// presented its host key, so nothing was authenticated or verified yet.
func dialOnce(ctx context.Context, t Target, o Options, methods []ssh.AuthMethod) (c *Client, transient bool, err error) {
	if err := o.Handshakes.enter(ctx); err != nil {
		return nil, false, classify(ctx, "dial", fmt.Errorf("wait to connect to %s: %w", t.Addr(), err))
	}
	defer o.Handshakes.leave()
	addr := t.Addr()
	dialer := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		// A reset as the connection is made (the host accepted and
		// dropped it at once) is transient; a refusal is not.
		transient := ctx.Err() == nil && errors.Is(err, syscall.ECONNRESET)
		return nil, transient, classify(ctx, "dial", &dialError{addr: addr, err: err})
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true) // small request/response exchanges
	}
	stopWatch := context.AfterFunc(ctx, func() { conn.Close() })

	known := o.HostKeys.knownKeys(addr, conn.RemoteAddr())
	var sawHostKey atomic.Bool
	config := &ssh.ClientConfig{
		User: t.User,
		Auth: methods,
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			sawHostKey.Store(true)
			return o.HostKeys.check(hostname, remote, key)
		},
		HostKeyAlgorithms: hostKeyAlgorithms(known),
	}
	if err := conn.SetDeadline(time.Now().Add(o.HandshakeTimeout)); err != nil {
		stopWatch()
		conn.Close()
		return nil, false, classify(ctx, "handshake", err)
	}
	sshConn, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		stopWatch()
		conn.Close()
		transient := !sawHostKey.Load() && ctx.Err() == nil && droppedByPeer(err)
		return nil, transient, handshakeError(ctx, addr, t.User, o.HandshakeTimeout, known, err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		stopWatch()
		sshConn.Close()
		return nil, false, classify(ctx, "handshake", err)
	}
	c = &Client{
		addr:      addr,
		ssh:       ssh.NewClient(sshConn, chans, reqs),
		remoteDir: o.RemoteDir,
		stopWatch: stopWatch,
		closed:    make(chan struct{}),
		keepAlive: o.KeepAlive,
	}
	if o.KeepAlive > 0 {
		go c.keepAliveLoop()
	}
	return c, false, nil
}

// droppedByPeer reports a connection the host reset or closed: what sshd
// does to connections beyond its MaxStartups.
func droppedByPeer(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// keepAlive sends a keepalive request every interval until the Client is
// closed, and closes the connection when one stays unanswered for
// keepAliveMissed intervals, so calls waiting on a vanished host fail.
func (c *Client) keepAliveLoop() {
	interval := c.keepAlive
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-tick.C:
		}
		dead := time.AfterFunc(keepAliveMissed*interval, func() {
			c.unanswered.Store(true)
			c.ssh.Close()
		})
		// OpenSSH answers with a failure: any answer shows the host is there.
		_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
		dead.Stop()
		if err != nil {
			return // the connection is closed
		}
	}
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
		close(c.closed)
		c.stopWatch()
		c.closeErr = c.ssh.Close()
		if errors.Is(c.closeErr, net.ErrClosed) {
			c.closeErr = nil
		}
	})
	return c.closeErr
}

// failure classifies the error of a call on the connection, naming the
// cause when the keepalive loop closed it.
func (c *Client) failure(ctx context.Context, step string, err error) error {
	if c.unanswered.Load() && ctx.Err() == nil {
		return &Error{Kind: Timeout, Step: step, Err: fmt.Errorf(
			"%s stopped answering: no reply to %d keepalives %v apart, closed the connection: %w", c.addr, keepAliveMissed, c.keepAlive, err)}
	}
	return classify(ctx, step, err)
}

// watch closes the connection when ctx is done before the returned stop
// function is called: a call whose context ends leaves the Client unusable.
func (c *Client) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.ssh.Close() })
}

// dialError is a TCP connection to addr that failed. It says so once,
// with the operating system's reason and what to check ("connect to
// 10.0.0.5:22: connection refused; is sshd running there, on port 22?"),
// not the net package's own repetition of the address; it unwraps to the
// net package's error.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Unwrap() error { return e.err }

func (e *dialError) Error() string {
	reason := e.err.Error()
	var sysErr *os.SyscallError
	var opErr *net.OpError
	switch {
	case errors.As(e.err, &sysErr):
		reason = sysErr.Err.Error()
	case errors.As(e.err, &opErr) && opErr.Err != nil:
		reason = opErr.Err.Error()
	}
	msg := "connect to " + e.addr + ": " + reason
	_, port, _ := net.SplitHostPort(e.addr)
	switch {
	case errors.Is(e.err, syscall.ECONNREFUSED):
		msg += "; is sshd running there, on port " + port + "?"
	case errors.Is(e.err, syscall.EHOSTUNREACH), errors.Is(e.err, syscall.ENETUNREACH):
		msg += "; check the address, and the route to it"
	}
	return msg
}
