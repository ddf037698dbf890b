package cli

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtpd "github.com/emersion/go-smtp"
)

// receivedMail is one mail the test SMTP server accepted.
type receivedMail struct {
	user string
	from string
	to   []string
	data string
}

// smtpSink is a real SMTP server (emersion/go-smtp) on loopback that
// requires AUTH PLAIN as one user and keeps what it accepts.
type smtpSink struct {
	host     string
	port     int
	user     string
	password string

	mu   sync.Mutex
	mail []receivedMail
}

func startSMTPSink(t *testing.T, user, password string) *smtpSink {
	t.Helper()
	sink := &smtpSink{user: user, password: password}
	srv := smtpd.NewServer(smtpd.BackendFunc(func(*smtpd.Conn) (smtpd.Session, error) {
		return &sinkSession{sink: sink}, nil
	}))
	srv.Domain = "mail.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = true // loopback, no TLS in this test
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.host, sink.port = splitAddr(t, l.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = l.Close()
		<-done
	})
	return sink
}

func (s *smtpSink) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.mail...)
}

type sinkSession struct {
	sink *smtpSink
	user string
	from string
	to   []string
}

func (s *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *sinkSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtpd.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.sink.user || pass != s.sink.password {
			return smtpd.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *sinkSession) Mail(from string, _ *smtpd.MailOptions) error {
	if s.user == "" {
		return smtpd.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtpd.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.mail = append(s.sink.mail, receivedMail{user: s.user, from: s.from, to: s.to, data: string(data)})
	return nil
}

func (s *sinkSession) Reset() { s.from, s.to = "", nil }

func (s *sinkSession) Logout() error { return nil }

// unusedPort is a loopback port nothing listens on.
func unusedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port := splitAddr(t, l.Addr().String())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func writeEmailConfig(t *testing.T, settings map[string]any) string {
	t.Helper()
	data, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "email_config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sinkEmailConfig writes an email_config.json for a sink started with
// startSMTPSink(t, "cscs", "smtp-secret") that listens on port.
func sinkEmailConfig(t *testing.T, port int) string {
	t.Helper()
	return writeEmailConfig(t, map[string]any{"host": "127.0.0.1", "port": port, "security": "none",
		"username": "cscs", "password": "smtp-secret", "from": "CSCS <cscs@example.com>"})
}

func TestMailTest(t *testing.T) {
	skipShort(t, "launches the SMTP notifier out of process")
	const password = "pw-Zq81-not-for-logs"
	sink := startSMTPSink(t, "cscs", password)
	settings := func(change map[string]any) map[string]any {
		s := map[string]any{"host": sink.host, "port": sink.port, "security": "none",
			"username": "cscs", "password": password, "from": "CSCS <cscs@example.com>"}
		for k, v := range change {
			if v == nil {
				delete(s, k)
			} else {
				s[k] = v
			}
		}
		return s
	}
	via := "via " + net.JoinHostPort(sink.host, strconv.Itoa(sink.port)) + " (none)"
	cases := map[string]struct {
		settings   map[string]any
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
		wantMail   bool
	}{
		"sent": {
			settings:   settings(nil),
			args:       []string{"--to", "ops@example.com"},
			wantCode:   ExitOK,
			wantStdout: []string{"sent to ops@example.com " + via},
			wantMail:   true,
		},
		"bad credentials": {
			settings:   settings(map[string]any{"password": "wrong-password-42"}),
			args:       []string{"--to", "ops@example.com"},
			wantCode:   ExitSomeFailed,
			wantStderr: []string{"sending to ops@example.com " + via + " failed, permanently", "535", "check the username, password"},
		},
		"server down": {
			settings:   settings(map[string]any{"port": unusedPort(t)}),
			args:       []string{"--to", "ops@example.com"},
			wantCode:   ExitSomeFailed,
			wantStderr: []string{"failed, temporarily", "connection refused", "try again"},
		},
		"config without from": {
			settings:   settings(map[string]any{"from": nil}),
			args:       []string{"--to", "ops@example.com"},
			wantCode:   ExitBadConfig,
			wantStderr: []string{"email_config.json:1:1: error:", `"from" setting is missing`},
		},
		"settings the notifier refuses": {
			settings:   settings(map[string]any{"host": "smtp.example.com"}), // password in clear text over the network
			args:       []string{"--to", "ops@example.com"},
			wantCode:   ExitBadConfig,
			wantStderr: []string{"warning", "the smtp notifier refused these settings", "starttls"},
		},
		"no address": {
			settings:   settings(nil),
			wantCode:   ExitBadConfig,
			wantStderr: []string{"--to is required"},
		},
		"bad address": {
			settings:   settings(nil),
			args:       []string{"--to", "ops at example"},
			wantCode:   ExitBadConfig,
			wantStderr: []string{`--to "ops at example" is not a mail address`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(sink.received())
			args := append([]string{"mail", "test", "--email-config", writeEmailConfig(t, tc.settings)}, tc.args...)
			code, stdout, stderr := runMain(t.Context(), "test", args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d; want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			for _, want := range tc.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout %q lacks %q", stdout, want)
				}
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
			for _, out := range []string{stdout, stderr} {
				if strings.Contains(out, password) || strings.Contains(out, "wrong-password-42") {
					t.Errorf("output holds a password: %q", out)
				}
			}
			got := sink.received()[before:]
			if !tc.wantMail {
				if len(got) != 0 {
					t.Errorf("the server received %d mails; want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("the server received %d mails; want 1", len(got))
			}
			m := got[0]
			if m.user != "cscs" || m.from != "cscs@example.com" || len(m.to) != 1 || m.to[0] != "ops@example.com" {
				t.Errorf("envelope: user %q from %q to %q", m.user, m.from, m.to)
			}
			for _, want := range []string{"Subject: CSCS test mail", "To: <ops@example.com>", "This is a test mail from `cscs mail test`", "Message-ID: <cscs."} {
				if !strings.Contains(m.data, want) {
					t.Errorf("mail lacks %q:\n%s", want, m.data)
				}
			}
		})
	}
}
