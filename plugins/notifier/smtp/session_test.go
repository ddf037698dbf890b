package smtp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/plugins/notifier/smtp"
)

// TestSendReusesSessions: a burst of Sends costs one SMTP session, not one
// per mail; a session the server ended while it was idle is replaced
// before the mail is handed over, so the Send succeeds and the mail
// arrives once.
func TestSendReusesSessions(t *testing.T) {
	tests := map[string]struct {
		// between runs before each Send after the first.
		between      func(ms *mailServer)
		mails        int
		wantSessions int
	}{
		"one session for a burst": {
			mails: 5, wantSessions: 1,
		},
		"idle session dropped by the server": {
			between: func(ms *mailServer) { ms.dropSessions("") },
			mails:   3, wantSessions: 3,
		},
		"idle session closed with 421": {
			between: func(ms *mailServer) { ms.dropSessions("421 4.4.2 mail.test idle for too long, closing") },
			mails:   3, wantSessions: 3,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ms := startServer(t, serverOptions{})
			n := configured(t, smtp.Config{Host: ms.host, Port: ms.port, Security: "none", From: "cscs@example.org"})
			t.Cleanup(func() { _ = n.Close() })
			for i := range tc.mails {
				if i > 0 && tc.between != nil {
					tc.between(ms)
					time.Sleep(10 * time.Millisecond) // let the close reach the client's socket
				}
				note := testNotification()
				note.ID = fmt.Sprintf("mail-%d", i)
				if err := n.Send(context.Background(), note); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			if got := len(ms.received()); got != tc.mails {
				t.Errorf("server received %d mails, want %d", got, tc.mails)
			}
			if got := ms.sessions(); got != tc.wantSessions {
				t.Errorf("server opened %d sessions, want %d", got, tc.wantSessions)
			}
		})
	}
}

// TestSendConcurrently: concurrent Sends each deliver their mail once,
// in at most as many sessions as ran at once.
func TestSendConcurrently(t *testing.T) {
	const senders, each = 6, 10
	ms := startServer(t, serverOptions{})
	n := configured(t, smtp.Config{Host: ms.host, Port: ms.port, Security: "none", From: "cscs@example.org"})
	t.Cleanup(func() { _ = n.Close() })
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				note := testNotification()
				note.ID = fmt.Sprintf("mail-%d-%d", s, i)
				errs <- n.Send(context.Background(), note)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for _, m := range ms.received() {
		seen[messageID(t, m.data)]++
	}
	if len(seen) != senders*each {
		t.Errorf("server received %d distinct mails, want %d", len(seen), senders*each)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("mail %s received %d times", id, c)
		}
	}
	if got := ms.sessions(); got > senders {
		t.Errorf("server opened %d sessions for %d concurrent senders", got, senders)
	}
}

// messageID is the Message-ID header of the raw mail data.
func messageID(t *testing.T, data []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received mail does not parse: %v", err)
	}
	return m.Header.Get("Message-Id")
}
