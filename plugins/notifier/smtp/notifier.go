// Package smtp is the built-in notifier that delivers notifications as
// plain-text mail over SMTP, with STARTTLS or implicit TLS and SMTP AUTH
// (PLAIN or LOGIN). Each Send opens one connection and delivers one mail.
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

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// Name is the notifier's name in configuration and the plugin catalog.
const Name = "smtp"

// Notifier sends notifications through one SMTP server.
type Notifier struct {
	// Version is reported by Describe.
	Version string

	mu  sync.Mutex
	cfg *settings
}

var _ notifier.Notifier = (*Notifier)(nil)

// Describe names the notifier and declares its configuration.
func (n *Notifier) Describe(context.Context) (notifier.Description, error) {
	return notifier.Description{Name: Name, Version: n.Version, Config: configSchema()}, nil
}

// Configure checks config (see Config) and keeps it for the next Sends.
// Errors never quote the password.
func (n *Notifier) Configure(_ context.Context, config []byte) error {
	_, s, err := parseConfig(config)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg = &s
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
	if err := deliver(ctx, *cfg, msg); err != nil {
		return classify(fmt.Errorf("send notification %s via smtp server %s: %w", note.ID, server, err))
	}
	return nil
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

// deliver connects, authenticates when configured, and sends msg. The
// connection is closed when ctx ends, so ctx bounds the whole exchange,
// not only the dial.
func deliver(ctx context.Context, cfg settings, msg *mail.Msg) error {
	var (
		connMu sync.Mutex
		conn   net.Conn
	)
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
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
	client, err := mail.NewClient(cfg.host, clientOptions(cfg, dial)...)
	if err != nil {
		return fmt.Errorf("set up smtp client: %w", err)
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
			return &connectError{fmt.Errorf("no SMTP greeting within %s (%w)", connectTimeout, connectErr)}
		}
		return &connectError{orContextErr(ctx, err)}
	}
	if err := client.SendWithSMTPClient(smtpClient, msg); err != nil {
		closeConn()
		return orContextErr(ctx, err)
	}
	// The server accepted the mail; a failing QUIT does not undo that, and
	// reporting it would make the core send the mail twice.
	_ = client.CloseWithSMTPClient(smtpClient)
	closeConn()
	return nil
}

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
