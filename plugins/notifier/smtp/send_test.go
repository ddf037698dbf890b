package smtp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"github.com/cscs-dev/cscs/plugins/notifier/smtp"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

const (
	testUser     = "cscs"
	testPassword = "pa55-W0rd-never-shown"
)

// configured returns a notifier configured with cfg.
func configured(t *testing.T, cfg smtp.Config) *smtp.Notifier {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &smtp.Notifier{Version: "1.0.0-test"}
	if err := n.Configure(context.Background(), raw); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

func testNotification() notifier.Notification {
	return notifier.Notification{
		ID:        "alert-42.web01",
		Kind:      "alert",
		To:        []string{"ops@example.com", "Ünal Öz <unal@example.com>"},
		Subject:   "[CSCS] web01: mémoire 93 % ≥ 50 %",
		Body:      "Host web01 (10.0.0.7)\nmemory.used_percent = 93.2 % (limit 50 %)\nÀ vérifier — ☃\n",
		Host:      "10.0.0.7",
		CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

func TestSendDelivers(t *testing.T) {
	users := map[string]string{testUser: testPassword}
	tests := map[string]struct {
		server   serverOptions
		config   func(host string, port int) smtp.Config
		wantUser string
		wantTLS  bool
	}{
		"plain smtp": {
			server: serverOptions{},
			config: func(host string, port int) smtp.Config {
				return smtp.Config{Host: host, Port: port, Security: "none", From: "CSCS <cscs@example.org>"}
			},
		},
		"plain smtp with auth to a loopback server": {
			server: serverOptions{users: users, allowInsecureAuth: true},
			config: func(host string, port int) smtp.Config {
				return smtp.Config{Host: host, Port: port, Security: "none", From: "CSCS <cscs@example.org>",
					Username: testUser, Password: testPassword}
			},
			wantUser: testUser,
		},
		"starttls with auth plain": {
			server: serverOptions{tls: selfSignedTLS(t), users: users},
			config: func(host string, port int) smtp.Config {
				return smtp.Config{Host: host, Port: port, Security: "starttls", From: "CSCS <cscs@example.org>",
					Username: testUser, Password: testPassword, InsecureSkipVerify: true}
			},
			wantUser: testUser,
			wantTLS:  true,
		},
		"starttls with auth login": {
			server: serverOptions{tls: selfSignedTLS(t), users: users},
			config: func(host string, port int) smtp.Config {
				return smtp.Config{Host: host, Port: port, Security: "starttls", From: "CSCS <cscs@example.org>",
					Username: testUser, Password: testPassword, Auth: "login", InsecureSkipVerify: true}
			},
			wantUser: testUser,
			wantTLS:  true,
		},
		"implicit tls with auth plain": {
			server: serverOptions{tls: selfSignedTLS(t), implicitTLS: true, users: users},
			config: func(host string, port int) smtp.Config {
				return smtp.Config{Host: host, Port: port, Security: "tls", From: "CSCS <cscs@example.org>",
					Username: testUser, Password: testPassword, InsecureSkipVerify: true}
			},
			wantUser: testUser,
			wantTLS:  true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			server := startServer(t, tc.server)
			n := configured(t, tc.config(server.host, server.port))
			note := testNotification()
			if err := n.Send(context.Background(), note); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := server.received()
			if len(got) != 1 {
				t.Fatalf("server received %d mails, want 1", len(got))
			}
			d := got[0]
			if d.user != tc.wantUser || d.tls != tc.wantTLS {
				t.Errorf("delivered as user %q over tls %v, want %q and %v", d.user, d.tls, tc.wantUser, tc.wantTLS)
			}
			if d.from != "cscs@example.org" {
				t.Errorf("envelope sender %q, want cscs@example.org", d.from)
			}
			if want := []string{"ops@example.com", "unal@example.com"}; !slices.Equal(d.to, want) {
				t.Errorf("envelope recipients %q, want %q", d.to, want)
			}
			checkMessage(t, d.data, note)
		})
	}
}

// checkMessage parses a delivered message and compares it with note.
func checkMessage(t *testing.T, data []byte, note notifier.Notification) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse delivered message: %v\n%s", err, data)
	}
	h := msg.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "CSCS" || from[0].Address != "cscs@example.org" {
		t.Errorf("From = %q (%v), want CSCS <cscs@example.org>", h.Get("From"), err)
	}
	to, err := h.AddressList("To")
	if err != nil {
		t.Fatalf("To %q: %v", h.Get("To"), err)
	}
	var toAddrs []string
	for _, a := range to {
		toAddrs = append(toAddrs, a.Address)
	}
	if want := []string{"ops@example.com", "unal@example.com"}; !slices.Equal(toAddrs, want) || to[1].Name != "Ünal Öz" {
		t.Errorf("To = %q, want %q with the name Ünal Öz", h.Get("To"), want)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != note.Subject {
		t.Errorf("Subject = %q (raw %q, %v), want %q", subject, h.Get("Subject"), err, note.Subject)
	}
	date, err := h.Date()
	if err != nil || !date.Equal(note.CreatedAt) {
		t.Errorf("Date = %q (%v), want %v", h.Get("Date"), err, note.CreatedAt)
	}
	if got, want := h.Get("Message-Id"), "<alert-42.web01@example.org>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if got := h.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q, want auto-generated", got)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type = %q, want text/plain; charset=UTF-8", h.Get("Content-Type"))
	}
	var body io.Reader = msg.Body
	switch enc := strings.ToLower(h.Get("Content-Transfer-Encoding")); enc {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", enc)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	if got := strings.ReplaceAll(string(text), "\r\n", "\n"); got != note.Body {
		t.Errorf("body = %q, want %q", got, note.Body)
	}
}

func TestSendFailures(t *testing.T) {
	users := map[string]string{testUser: testPassword}
	tests := map[string]struct {
		// start returns the server's address and the configuration.
		start         func(t *testing.T) smtp.Config
		wantTemporary bool
		// wantUnavailable: the server could not be used at all, so the
		// core holds the channel's other mails (notifier.Unavailable).
		wantUnavailable bool
		wantInError     string
	}{
		"bad credentials": {
			start: func(t *testing.T) smtp.Config {
				s := startServer(t, serverOptions{tls: selfSignedTLS(t), users: users})
				return smtp.Config{Host: s.host, Port: s.port, Security: "starttls", From: "cscs@example.org",
					Username: testUser, Password: testPassword + "-typo", InsecureSkipVerify: true}
			},
			wantInError: "535",
		},
		"mailbox unavailable": {
			start: func(t *testing.T) smtp.Config {
				s := startServer(t, serverOptions{rcptReply: &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}})
				return smtp.Config{Host: s.host, Port: s.port, Security: "none", From: "cscs@example.org"}
			},
			wantInError: "550",
		},
		"mailbox busy": {
			start: func(t *testing.T) smtp.Config {
				s := startServer(t, serverOptions{rcptReply: &smtpd.SMTPError{Code: 451, EnhancedCode: smtpd.EnhancedCode{4, 3, 0}, Message: "try again later"}})
				return smtp.Config{Host: s.host, Port: s.port, Security: "none", From: "cscs@example.org"}
			},
			wantTemporary: true,
			wantInError:   "451",
		},
		"server down": {
			start: func(t *testing.T) smtp.Config {
				host, port := closedPort(t)
				return smtp.Config{Host: host, Port: port, Security: "none", From: "cscs@example.org"}
			},
			wantTemporary:   true,
			wantUnavailable: true,
			wantInError:     "refused",
		},
		"server silent": {
			start: func(t *testing.T) smtp.Config {
				host, port := startSilentServer(t)
				return smtp.Config{Host: host, Port: port, Security: "none", From: "cscs@example.org", Timeout: "300ms"}
			},
			wantTemporary:   true,
			wantUnavailable: true,
			// go-mail's read deadline and the connect timeout end together.
			wantInError: "connect: ",
		},
		"server out of service": {
			start: func(t *testing.T) smtp.Config {
				host, port := startGreetingServer(t, "421 4.3.2 service not available, closing channel")
				return smtp.Config{Host: host, Port: port, Security: "none", From: "cscs@example.org"}
			},
			wantTemporary:   true,
			wantUnavailable: true,
			wantInError:     "421",
		},
		"untrusted certificate": {
			start: func(t *testing.T) smtp.Config {
				s := startServer(t, serverOptions{tls: selfSignedTLS(t), users: users})
				return smtp.Config{Host: s.host, Port: s.port, Security: "starttls", From: "cscs@example.org",
					Username: testUser, Password: testPassword}
			},
			wantInError: "certificate",
		},
		"starttls not offered": {
			start: func(t *testing.T) smtp.Config {
				s := startServer(t, serverOptions{})
				return smtp.Config{Host: s.host, Port: s.port, Security: "starttls", From: "cscs@example.org"}
			},
			wantInError: "STARTTLS",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n := configured(t, tc.start(t))
			err := n.Send(context.Background(), testNotification())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			t.Logf("error: %v", err)
			if got := notifier.IsTemporary(err); got != tc.wantTemporary {
				t.Errorf("IsTemporary = %v, want %v; error: %v", got, tc.wantTemporary, err)
			}
			if got := notifier.IsUnavailable(err); got != tc.wantUnavailable {
				t.Errorf("IsUnavailable = %v, want %v; error: %v", got, tc.wantUnavailable, err)
			}
			if !strings.Contains(err.Error(), tc.wantInError) {
				t.Errorf("error %q does not mention %q", err, tc.wantInError)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error reveals the password: %q", err)
			}
			if !strings.Contains(err.Error(), "alert-42.web01") {
				t.Errorf("error %q does not name the notification", err)
			}
		})
	}
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	host, port := startSilentServer(t)
	n := configured(t, smtp.Config{Host: host, Port: port, Security: "none", From: "cscs@example.org", Timeout: "1m"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := n.Send(ctx, testNotification())
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("Send returned after %v; the context ended after 200ms", elapsed)
	}
	if err == nil || !notifier.IsTemporary(err) {
		t.Fatalf("Send = %v, want a temporary error", err)
	}
}

// TestSendBoundsConnecting: a server that accepts connections and never
// greets fails a Send within DefaultConnectTimeout, not the configured
// minute, and marks it Unavailable.
func TestSendBoundsConnecting(t *testing.T) {
	host, port := startSilentServer(t)
	n := configured(t, smtp.Config{Host: host, Port: port, Security: "none", From: "cscs@example.org", Timeout: "1m"})
	done := make(chan error, 1)
	go func() { done <- n.Send(context.Background(), testNotification()) }()
	select {
	case err := <-done:
		if !notifier.IsUnavailable(err) || !strings.Contains(err.Error(), "no SMTP greeting within "+smtp.DefaultConnectTimeout.String()) {
			t.Fatalf("Send = %v, want an Unavailable error naming the connect timeout", err)
		}
	case <-time.After(smtp.DefaultConnectTimeout + 30*time.Second):
		t.Fatal("Send still waits for a silent server's greeting long after DefaultConnectTimeout")
	}
}

func TestSendRefusesBeforeSending(t *testing.T) {
	server := startServer(t, serverOptions{})
	cfg := smtp.Config{Host: server.host, Port: server.port, Security: "none", From: "cscs@example.org"}
	noRecipient := testNotification()
	noRecipient.To = nil
	badRecipient := testNotification()
	badRecipient.To = []string{"not an address"}
	tests := map[string]struct {
		notifier    *smtp.Notifier
		note        notifier.Notification
		wantInError string
	}{
		"not configured": {&smtp.Notifier{}, testNotification(), "before Configure"},
		"no recipient":   {configured(t, cfg), noRecipient, "no recipient"},
		"bad recipient":  {configured(t, cfg), badRecipient, "not an address"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.notifier.Send(context.Background(), tc.note)
			if err == nil || notifier.IsTemporary(err) || !strings.Contains(err.Error(), tc.wantInError) {
				t.Fatalf("Send = %v, want a permanent error mentioning %q", err, tc.wantInError)
			}
		})
	}
	if got := server.received(); len(got) != 0 {
		t.Fatalf("server received %d mails, want none", len(got))
	}
}

func TestDescribe(t *testing.T) {
	d, err := (&smtp.Notifier{Version: "2.0"}).Describe(context.Background())
	if err != nil || d.Name != "smtp" || d.Version != "2.0" {
		t.Fatalf("Describe = %+v, %v; want smtp 2.0", d, err)
	}
}
