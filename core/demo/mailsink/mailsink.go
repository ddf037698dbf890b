// Package mailsink is a local SMTP server for `cscs demo`: it accepts mail
// on a loopback address without authentication and writes every message
// to a directory as an .eml file, so a demo round shows its alert and
// event-log mails without a real mail server.
package mailsink

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	smtpd "github.com/emersion/go-smtp"
)

// maxMessage bounds one message.
const maxMessage = 10 << 20

// Sink is a running local SMTP server.
type Sink struct {
	Host string
	Port int
	Dir  string

	srv  *smtpd.Server
	ln   net.Listener
	done chan struct{}

	mu    sync.Mutex
	count int
	// kept are the messages of a sink without a directory.
	kept [][]byte
}

// Start listens on 127.0.0.1 (a free port) and stores messages in dir;
// with dir "" it keeps them in memory (Messages), for tests and
// benchmarks that should not measure the file system.
func Start(dir string) (*Sink, error) {
	return StartOn("127.0.0.1:0", dir)
}

// StartOn is Start on the loopback address addr ("127.0.0.1:2525"), for
// a test that brings a mail server back on the port it used.
func StartOn(addr, dir string) (*Sink, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("mail sink: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	s := &Sink{Host: tcp.IP.String(), Port: tcp.Port, Dir: dir, ln: ln, done: make(chan struct{})}
	s.srv = smtpd.NewServer(smtpd.BackendFunc(func(*smtpd.Conn) (smtpd.Session, error) { return &session{sink: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = maxMessage
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Count is how many messages the sink has stored.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Close stops the server.
func (s *Sink) Close() error {
	err := s.srv.Close()
	<-s.done
	if errors.Is(err, smtpd.ErrServerClosed) {
		return nil
	}
	return err
}

// Messages are the messages a sink without a directory received, in
// the order it received them.
func (s *Sink) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.kept)
}

func (s *Sink) store(data []byte) error {
	s.mu.Lock()
	s.count++
	n := s.count
	if s.Dir == "" {
		s.kept = append(s.kept, data)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	name := filepath.Join(s.Dir, fmt.Sprintf("%03d.eml", n))
	return os.WriteFile(name, data, 0o600)
}

type session struct{ sink *Sink }

func (*session) Mail(string, *smtpd.MailOptions) error { return nil }
func (*session) Rcpt(string, *smtpd.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxMessage))
	if err != nil {
		return err
	}
	return s.sink.store(data)
}
func (*session) Reset()        {}
func (*session) Logout() error { return nil }

// Addr is "host:port".
func (s *Sink) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
