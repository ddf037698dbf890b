package smtp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtpd "github.com/emersion/go-smtp"
)

// delivered is one mail the test server accepted.
type delivered struct {
	from string
	to   []string
	data []byte
	// user is the account the client authenticated as ("" for none).
	user string
	// tls is whether the mail travelled over TLS.
	tls bool
}

// serverOptions shape a test SMTP server.
type serverOptions struct {
	// tls, when set, is the certificate configuration: offered through
	// STARTTLS, or from the first byte with implicitTLS.
	tls         *tls.Config
	implicitTLS bool
	// users are the accounts of AUTH PLAIN and LOGIN; when set, mail
	// needs authentication.
	users map[string]string
	// allowInsecureAuth offers AUTH without TLS.
	allowInsecureAuth bool
	// rcptReply, when set, answers every RCPT TO.
	rcptReply *smtpd.SMTPError
}

// mailServer is a real SMTP server (emersion/go-smtp) on loopback that
// records what it accepts.
type mailServer struct {
	host string
	port int
	opts serverOptions

	mu   sync.Mutex
	mail []delivered
	// conns are the sessions the server opened, in order.
	conns []*smtpd.Conn
}

func startServer(t *testing.T, opts serverOptions) *mailServer {
	t.Helper()
	ms := &mailServer{opts: opts}
	srv := smtpd.NewServer(smtpd.BackendFunc(func(c *smtpd.Conn) (smtpd.Session, error) {
		ms.mu.Lock()
		ms.conns = append(ms.conns, c)
		ms.mu.Unlock()
		return &session{server: ms, conn: c}, nil
	}))
	srv.Domain = "mail.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients hanging up mid-exchange are part of the tests
	srv.AllowInsecureAuth = opts.allowInsecureAuth
	srv.TLSConfig = opts.tls
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.implicitTLS {
		l = tls.NewListener(l, opts.tls)
	}
	ms.host, ms.port = hostPort(t, l.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close() // closes the sessions
		_ = l.Close()   // in case Serve had not registered it yet
		<-done
	})
	return ms
}

// received returns what the server accepted so far.
func (ms *mailServer) received() []delivered {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]delivered(nil), ms.mail...)
}

// sessions is how many SMTP sessions the server opened.
func (ms *mailServer) sessions() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.conns)
}

// dropSessions ends every session from the server side, with reply (an
// SMTP reply line such as a 421) first unless it is empty, as a server
// does with a client idle too long.
func (ms *mailServer) dropSessions(reply string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, c := range ms.conns {
		if reply != "" {
			_, _ = c.Conn().Write([]byte(reply + "\r\n"))
		}
		_ = c.Close()
	}
}

type session struct {
	server *mailServer
	conn   *smtpd.Conn
	user   string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if len(s.server.opts.users) == 0 {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.login(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: s.login}, nil
	}
	return nil, smtpd.ErrAuthUnknownMechanism
}

func (s *session) login(user, pass string) error {
	if want, ok := s.server.opts.users[user]; ok && want == pass {
		s.user = user
		return nil
	}
	return smtpd.ErrAuthFailed
}

func (s *session) Mail(from string, _ *smtpd.MailOptions) error {
	if len(s.server.opts.users) > 0 && s.user == "" {
		return smtpd.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtpd.RcptOptions) error {
	if r := s.server.opts.rcptReply; r != nil {
		return r
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	s.server.mail = append(s.server.mail, delivered{from: s.from, to: s.to, data: data, user: s.user, tls: isTLS})
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (a de-facto mechanism that
// go-sasl offers only as a client): ask for the user name, then the
// password.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.user = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(response))
	}
}

// startSilentServer accepts connections and never says a word, like a
// server that hangs.
func startSilentServer(t *testing.T) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return hostPort(t, l.Addr())
}

// closedPort returns a loopback address nothing listens on.
// startGreetingServer answers every connection with greeting (an SMTP
// reply line, such as a 421) and closes it.
func startGreetingServer(t *testing.T, greeting string) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(greeting + "\r\n"))
			_ = c.Close()
		}
	}()
	return hostPort(t, l.Addr())
}

func closedPort(t *testing.T) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, l.Addr())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return host, port
}

func hostPort(t *testing.T, addr net.Addr) (string, int) {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// selfSignedTLS returns a server configuration with a fresh self-signed
// certificate for 127.0.0.1 and localhost.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cscs test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
}
