package serve

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/internal/mailtest"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestRoundDoesNotWaitForMail: with a mail server that accepts
// connections and never answers (a tarpit), a round of the service ends
// and is stored while the deliverer beside it still waits for the
// server's greeting: the round's end comes before any outcome of the
// delivery, which then gives the server up and keeps the mail pending.
func TestRoundDoesNotWaitForMail(t *testing.T) {
	accepted := make(chan struct{}, 16)
	port := mailtest.Tarpit(t, accepted)
	plan, _ := fleetPlanOf(t, "", func(d *demo.Demo) {
		email := fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "security": "none", "from": "cscs@localhost"}`, port)
		if err := os.WriteFile(d.Email, []byte(email), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	var events eventLog
	svc := New(plan, nil, Options{Interval: time.Minute, Jitter: -1,
		Reporter: func() round.Reporter { return &events }})
	ctx, cancel := context.WithCancel(context.Background())
	m, stop := svc.startMailer(ctx)
	defer stop()
	defer cancel()

	res, _, complete := svc.runOnce(ctx, plan, time.Now(), m)
	events.add("round ended")
	if !complete || !res.Stored || !res.Notified || res.Report().Counts["ok"] != 2 {
		t.Fatalf("round: %s, complete %v, stored %v, notified %v", res, complete, res.Stored, res.Notified)
	}
	select {
	case <-accepted: // the delivery is under way
	case <-time.After(time.Minute):
		t.Fatal("the deliverer never connected to the mail server")
	}
	if !events.waitFor("mail: 0 sent", 2*time.Minute) {
		t.Fatalf("the delivery did not finish: %v", events.lines())
	}
	lines := events.lines()
	ended := slices.Index(lines, "round ended")
	firstMail := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "mail:") })
	if firstMail < ended {
		t.Errorf("the delivery's outcome came before the round ended: %v", lines)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "the notifier is unavailable") {
		t.Errorf("the delivery does not say the server was unavailable: %v", lines)
	}
}

// eventLog records notes, and the events a test adds, in order.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) HostDone(int, int, storage.Collection) {}
func (l *eventLog) Note(n round.Note)                     { l.add(n.Text) }

func (l *eventLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, s)
}

func (l *eventLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// waitFor waits up to limit for a line holding part.
func (l *eventLog) waitFor(part string, limit time.Duration) bool {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if slices.ContainsFunc(l.lines(), func(s string) bool { return strings.Contains(s, part) }) {
			return true
		}
	}
	return false
}
