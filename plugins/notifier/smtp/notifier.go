// Package smtp is the built-in notifier that delivers notifications as
// plain-text mail over SMTP, with STARTTLS or implicit TLS and SMTP AUTH
// (PLAIN or LOGIN).
//
// It keeps its SMTP sessions open between Sends, so that a burst of
// notifications costs one connection, greeting, EHLO, STARTTLS and AUTH
// per session rather than per mail: a Send takes an idle session (or
// dials one), sends its mail in it and gives it back. Sends may run
// concurrently, each in its own session; at most MaxIdleSessions stay
// open, each closed with QUIT after IdleTimeout unused, by Close, or by
// Configure. A session that turns out broken when reused (the server
// closed it meanwhile) is replaced by a new one once, before the mail
// was handed over, so a dropped idle connection never fails a Send.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// Name is the notifier's name in configuration and the plugin catalog.
const Name = "smtp"

// Session pool limits.
const (
	// MaxIdleSessions is how many SMTP sessions stay open between Sends.
	MaxIdleSessions = 8
	// IdleTimeout is how long an unused session stays open: long enough
	// for the next mail of a burst, well below the five minutes after
	// which RFC 5321 lets a server drop a silent client.
	IdleTimeout = 15 * time.Second
)

// Notifier sends notifications through one SMTP server. It is safe for
// concurrent Sends.
type Notifier struct {
	// Version is reported by Describe.
	Version string

	mu  sync.Mutex
	cfg *settings
	// idle are the open sessions no Send uses, the most recently used
	// last.
	idle []*session
}

var _ notifier.Notifier = (*Notifier)(nil)

// Describe names the notifier and declares its configuration.
func (n *Notifier) Describe(context.Context) (notifier.Description, error) {
	return notifier.Description{Name: Name, Version: n.Version, Config: configSchema()}, nil
}

// Configure checks config (see Config) and keeps it for the next Sends;
// sessions opened with earlier settings are closed. Errors never quote
// the password.
func (n *Notifier) Configure(_ context.Context, config []byte) error {
	_, s, err := parseConfig(config)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.cfg = &s
	idle := n.idle
	n.idle = nil
	n.mu.Unlock()
	for _, ss := range idle {
		ss.quit()
	}
	return nil
}

// Close ends the open SMTP sessions with QUIT. The notifier may be used
// again: the next Send opens a new session.
func (n *Notifier) Close() error {
	n.mu.Lock()
	idle := n.idle
	n.idle = nil
	n.mu.Unlock()
	for _, ss := range idle {
		ss.quit()
	}
	return nil
}

// Send delivers note as one mail. Failures that may pass (server down or
// slow, connection dropped, a 4xx reply) are notifier.Temporary; a 5xx
// reply or a bad message is permanent.
func (n *Notifier) Send(ctx context.Context, note notifier.Notification) error {
	n.mu.Lock()
	cfg := n.cfg
	n.mu.Unlock()
	if cfg == nil {
		return errors.New("smtp notifier: Send before Configure")
	}
	msg, err := newMessage(*cfg, n.Version, note)
	if err != nil {
		return fmt.Errorf("smtp notifier: %w", err)
	}
	server := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	if err := n.deliver(ctx, cfg, msg); err != nil {
		return classify(fmt.Errorf("send notification %s via smtp server %s: %w", note.ID, server, err))
	}
	return nil
}

// deliver sends msg in an idle session of cfg's, or a new one. A reused
// session that fails before the server took the mail (see stale) is
// closed and the mail sent in a new session.
func (n *Notifier) deliver(ctx context.Context, cfg *settings, msg *mail.Msg) error {
	if ss := n.take(cfg); ss != nil {
		err := ss.send(ctx, msg)
		if err == nil {
			n.put(ss)
			return nil
		}
		ss.drop()
		if !stale(err) || ctx.Err() != nil {
			return err
		}
	}
	ss, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	if err := ss.send(ctx, msg); err != nil {
		ss.drop()
		return err
	}
	n.put(ss)
	return nil
}

// take returns an idle session opened with cfg, the most recently used,
// or nil.
func (n *Notifier) take(cfg *settings) *session {
	n.mu.Lock()
	defer n.mu.Unlock()
	for len(n.idle) > 0 {
		ss := n.idle[len(n.idle)-1]
		n.idle = n.idle[:len(n.idle)-1]
		ss.idleTimer.Stop()
		if ss.cfg == cfg {
			return ss
		}
		go ss.quit() // opened with earlier settings
	}
	return nil
}

// put keeps ss open for the next Send, or ends it when enough are idle
// or the settings changed.
func (n *Notifier) put(ss *session) {
	n.mu.Lock()
	if n.cfg != ss.cfg || len(n.idle) >= MaxIdleSessions {
		n.mu.Unlock()
		ss.quit()
		return
	}
	n.idle = append(n.idle, ss)
	if ss.idleTimer == nil {
		ss.idleTimer = time.AfterFunc(IdleTimeout, func() { n.expire(ss) })
	} else {
		ss.idleTimer.Reset(IdleTimeout)
	}
	n.mu.Unlock()
}

// expire ends ss when it is still idle after IdleTimeout.
func (n *Notifier) expire(ss *session) {
	n.mu.Lock()
	for i, s := range n.idle {
		if s == ss {
			n.idle = append(n.idle[:i], n.idle[i+1:]...)
			n.mu.Unlock()
			ss.quit()
			return
		}
	}
	n.mu.Unlock() // taken meanwhile
}

// stale reports whether err, from a reused session, says the session
// was gone before the server took the mail: the connection failed, or
// the server closed the session (421), while sending MAIL FROM or
// checking the connection. Sending the mail again in a new session
// cannot deliver it twice then.
func stale(err error) bool {
	var sendErr *mail.SendError
	if !errors.As(err, &sendErr) {
		return false
	}
	switch sendErr.Reason {
	case mail.ErrSMTPMailFrom, mail.ErrConnCheck:
		code := sendErr.ErrorCode()
		return code == 0 || code == 421
	}
	return false
}

// DefaultConnectTimeout bounds connecting: the TCP (and TLS) connection,
// the server's greeting, EHLO, STARTTLS and AUTH, unless the configured
// timeout is shorter. A server that accepts connections and never
// answers costs a Send no more than this.
const DefaultConnectTimeout = 5 * time.Second

// connectError is a failure before the server was ready to take a mail:
// while connecting, waiting for its greeting, or in EHLO, STARTTLS or
// AUTH. A temporary one means the server is down or refusing service,
// not that this mail was refused (see classify).
type connectError struct{ err error }

func (e *connectError) Error() string { return "connect: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// session is one open SMTP session.
type session struct {
	cfg    *settings
	client *mail.Client
	smtp   *mailsmtp.Client
	conn   net.Conn
	// idleTimer ends the session when it stays idle (Notifier.put).
	idleTimer *time.Timer
}

// dial opens a session with cfg: connects, greets and authenticates
// when configured, all within the connect timeout and ctx.
func dial(ctx context.Context, opened *settings) (*session, error) {
	cfg := *opened
	var (
		connMu sync.Mutex
		conn   net.Conn
	)
	dialConn := func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := dialer(cfg).DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		connMu.Lock()
		conn = c
		connMu.Unlock()
		return c, nil
	}
	closeConn := func() {
		connMu.Lock()
		defer connMu.Unlock()
		if conn != nil {
			_ = conn.Close()
		}
	}
	client, err := mail.NewClient(cfg.host, clientOptions(cfg, dialConn)...)
	if err != nil {
		return nil, fmt.Errorf("set up smtp client: %w", err)
	}
	stop := context.AfterFunc(ctx, closeConn)
	defer stop()
	// go-mail bounds the dial by the context but reads the greeting under
	// its own timeout; closing the connection when connectCtx ends bounds
	// the whole of connecting.
	connectTimeout := min(cfg.timeout, DefaultConnectTimeout)
	connectCtx, cancelConnect := context.WithTimeout(ctx, connectTimeout)
	stopConnect := context.AfterFunc(connectCtx, closeConn)
	smtpClient, err := client.DialToSMTPClientWithContext(connectCtx)
	stopConnect()
	connectErr := connectCtx.Err()
	cancelConnect()
	if err != nil {
		closeConn() // go-mail leaves it open when the greeting, STARTTLS or AUTH fails
		if ctx.Err() == nil && connectErr != nil {
			return nil, &connectError{fmt.Errorf("no SMTP greeting within %s (%w)", connectTimeout, connectErr)}
		}
		return nil, &connectError{orContextErr(ctx, err)}
	}
	if ctx.Err() != nil {
		closeConn()
		return nil, &connectError{ctx.Err()}
	}
	connMu.Lock()
	defer connMu.Unlock()
	return &session{cfg: opened, client: client, smtp: smtpClient, conn: conn}, nil
}

// send sends msg in the session. The connection is closed when ctx ends,
// so ctx bounds the whole exchange; the session is then unusable.
func (ss *session) send(ctx context.Context, msg *mail.Msg) error {
	stop := context.AfterFunc(ctx, func() { _ = ss.conn.Close() })
	defer stop()
	err := ss.client.SendWithSMTPClient(ss.smtp, msg)
	if err == nil || msg.IsDelivered() {
		// The server accepted the mail; what failed after (RSET) does not
		// undo that, and reporting it would make the core send it twice.
		// The caller drops a session whose connection ended.
		return nil
	}
	return orContextErr(ctx, err)
}

// quit ends the session politely (QUIT), within the session's timeout.
func (ss *session) quit() {
	_ = ss.conn.SetDeadline(time.Now().Add(min(ss.cfg.timeout, DefaultConnectTimeout)))
	_ = ss.client.CloseWithSMTPClient(ss.smtp)
	_ = ss.conn.Close()
}

// drop closes the session's connection without a word: it failed.
func (ss *session) drop() { _ = ss.conn.Close() }

// orContextErr prefers the context's error when ctx ended, since closing
// the connection is what made err.
func orContextErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}

// dialer connects to the server; for implicit TLS it also does the TLS
// handshake, so go-mail sees a TLS connection from the start.
func dialer(cfg settings) interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
} {
	d := &net.Dialer{Timeout: cfg.timeout}
	if cfg.security == SecurityTLS {
		return &tls.Dialer{NetDialer: d, Config: tlsConfig(cfg)}
	}
	return d
}

func tlsConfig(cfg settings) *tls.Config {
	return &tls.Config{
		ServerName:         cfg.host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.insecureSkipVerify, // only when the configuration asks, for tests
	}
}

func clientOptions(cfg settings, dial mail.DialContextFunc) []mail.Option {
	opts := []mail.Option{
		mail.WithPort(cfg.port),
		mail.WithTimeout(cfg.timeout),
		mail.WithDialContextFunc(dial),
		mail.WithTLSConfig(tlsConfig(cfg)),
		// A session is checked by using it (see stale), not by a NOOP
		// before each mail, and needs no RSET after a delivered one.
		mail.WithoutNoop(),
		mail.WithoutRset(),
	}
	switch cfg.security {
	case SecurityStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		// none, or tls: the dialer already did the handshake.
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if cfg.username != "" {
		opts = append(opts, mail.WithSMTPAuth(authType(cfg)),
			mail.WithUsername(cfg.username), mail.WithPassword(cfg.password))
	}
	return opts
}

// authType picks go-mail's mechanism. Configure allows a password over
// plain SMTP only to a loopback server; go-mail's own check knows only
// "localhost", "127.0.0.1" and "::1", so the NOENC variants say so.
func authType(cfg settings) mail.SMTPAuthType {
	cleartext := cfg.security == SecurityNone
	switch {
	case cfg.auth == AuthLogin && cleartext:
		return mail.SMTPAuthLoginNoEnc
	case cfg.auth == AuthLogin:
		return mail.SMTPAuthLogin
	case cleartext:
		return mail.SMTPAuthPlainNoEnc
	}
	return mail.SMTPAuthPlain
}
