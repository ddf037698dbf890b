package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo/mailsink"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/plugins/notifier/smtp"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// TestDeliverManyToSMTP delivers 2,000 notifications to 20 mailboxes
// through the SMTP notifier to a real SMTP server: each arrives exactly
// once, and each mailbox receives its mails in the order they were
// queued. Several Deliver calls at once, each with its own database
// handle and notifier as separate cscs processes would have, still send
// each once.
func TestDeliverManyToSMTP(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 2,000 mails per case to a local SMTP server")
	}
	const mails, mailboxes = 2000, 20
	tests := map[string]struct {
		deliverers int
		workers    int
		// ordered: each mailbox's mails must arrive in queue order (one
		// Deliver at a time keeps it; concurrent ones may not).
		ordered bool
	}{
		"one deliver, parallel lanes": {deliverers: 1, ordered: true},
		"one deliver, one lane":       {deliverers: 1, workers: 1, ordered: true},
		"three delivers at once":      {deliverers: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sink, err := mailsink.Start("")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sink.Close() })
			path := filepath.Join(t.TempDir(), state.FileName)
			db := open(t, path)
			ob := outbox.New(db)
			created := time.Now().Add(-time.Hour)
			for i := range mails {
				n := notifier.Notification{
					ID: fmt.Sprintf("cscs.t%04d", i), Kind: "alert",
					To:      []string{fmt.Sprintf("ops%02d@example.org", i%mailboxes)},
					Subject: fmt.Sprintf("alert %d", i), Body: "disk full\n",
					CreatedAt: created.Add(time.Duration(i) * time.Millisecond),
				}
				if err := ob.Enqueue(t.Context(), n); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for range tc.deliverers {
				handle := open(t, path)
				wg.Add(1)
				go func() {
					defer wg.Done()
					deliverAll(t, handle, sink, outbox.Options{Workers: tc.workers})
				}()
			}
			wg.Wait()

			var (
				seen  = map[string]int{}
				order = map[string][]string{}
			)
			for _, data := range sink.Messages() {
				m, err := mail.ReadMessage(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("received mail does not parse: %v", err)
				}
				id := strings.Trim(m.Header.Get("Message-Id"), "<>")
				seen[id]++
				to := m.Header.Get("To")
				order[to] = append(order[to], id)
			}
			if len(seen) != mails {
				t.Errorf("the server received %d distinct mails, want %d", len(seen), mails)
			}
			for id, c := range seen {
				if c != 1 {
					t.Errorf("mail %s received %d times, want once", id, c)
				}
			}
			if len(order) != mailboxes {
				t.Errorf("mail went to %d mailboxes, want %d", len(order), mailboxes)
			}
			for to, ids := range order {
				if tc.ordered && !slices.IsSorted(ids) {
					t.Errorf("%s received its mails out of order: %v", to, ids)
				}
			}
			counts, err := db.NotificationCounts(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if counts[state.StatusSent] != mails {
				t.Errorf("outbox counts %v, want %d sent", counts, mails)
			}
		})
	}
}

// deliverAll delivers db's outbox to sink until nothing is due.
func deliverAll(t *testing.T, db *state.DB, sink *mailsink.Sink, opts outbox.Options) {
	cfg, err := json.Marshal(smtp.Config{Host: sink.Host, Port: sink.Port, Security: "none", From: "cscs@example.org"})
	if err != nil {
		t.Error(err)
		return
	}
	n := &smtp.Notifier{Version: "test"}
	if err := n.Configure(t.Context(), cfg); err != nil {
		t.Error(err)
		return
	}
	defer n.Close()
	ob := outbox.New(db)
	for range 100 {
		rep, err := ob.Deliver(context.Background(), n, opts)
		if err != nil || len(rep.Errors) > 0 {
			t.Errorf("Deliver: %v %v", err, rep.Errors)
			return
		}
		due, err := db.DueNotifications(t.Context(), time.Now(), 1)
		if err != nil {
			t.Error(err)
			return
		}
		if len(due) == 0 {
			return
		}
	}
	t.Error("the outbox still holds due notifications after 100 deliveries")
}

func open(t *testing.T, path string) *state.DB {
	t.Helper()
	db, err := state.Open(t.Context(), path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
