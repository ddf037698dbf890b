package outbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// recordingSender answers each Send with the next of its replies (the
// last one repeats) and records what it was asked to send.
type recordingSender struct {
	mu      sync.Mutex
	replies []error
	delay   time.Duration
	sent    []notifier.Notification
}

func (s *recordingSender) Send(ctx context.Context, n notifier.Notification) error {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, n)
	if len(s.replies) == 0 {
		return nil
	}
	err := s.replies[0]
	if len(s.replies) > 1 {
		s.replies = s.replies[1:]
	}
	return err
}

func (s *recordingSender) calls() []notifier.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notifier.Notification(nil), s.sent...)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// queued returns a fresh outbox holding a mail for each of ids, its
// database and a clock a second ahead of now, when they are due.
func queued(t *testing.T, ids ...string) (*state.DB, *Outbox, *clock) {
	t.Helper()
	db := openDB(t, "")
	box := New(db)
	for _, id := range ids {
		if err := box.Enqueue(t.Context(), mail(id)); err != nil {
			t.Fatal(err)
		}
	}
	return db, box, &clock{t: time.Now().Add(time.Second)}
}

func openDB(t *testing.T, path string) *state.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), state.FileName)
	}
	db, err := state.Open(t.Context(), path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func mail(id string) notifier.Notification {
	return notifier.Notification{ID: id, Kind: "alert", To: []string{"ops@example.com"},
		Subject: "cpu above 20% on " + id, Body: "cpu 93% > 20%\n", Host: "10.0.0.1:22"}
}

// fastOptions are Options for tests: no real pauses, a fixed backoff.
func fastOptions(c *clock) Options {
	return Options{RetryDelayNow: time.Millisecond, Now: c.now,
		Backoff: func(attempts int) time.Duration { return Backoff(attempts, 0) }}
}

var (
	errDown    = notifier.Temporary(errors.New("dial tcp 127.0.0.1:25: connect: connection refused"))
	errRefused = errors.New("smtp: 550 5.1.1 <nobody@example.com>: mailbox unavailable")
)

func status(t *testing.T, db *state.DB, id string) state.Notification {
	t.Helper()
	n, err := db.Notification(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueWritesPendingBeforeAnySend(t *testing.T) {
	db := openDB(t, "")
	box := New(db)
	n := mail("")
	n.Host = "10.0.0.1"
	if err := box.Enqueue(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	counts, err := db.NotificationCounts(t.Context())
	if err != nil || counts[state.StatusPending] != 1 || len(counts) != 1 {
		t.Fatalf("after Enqueue: %v, %v; want one pending", counts, err)
	}
	c := &clock{t: time.Now()}
	sender := &recordingSender{}
	rep, err := box.Deliver(t.Context(), sender, fastOptions(c))
	if err != nil || rep.Sent != 1 {
		t.Fatalf("Deliver = %+v, %v", rep, err)
	}
	got := sender.calls()[0]
	if !regexp.MustCompile(`^cscs\.[0-9a-f]{32}$`).MatchString(got.ID) || got.CreatedAt.IsZero() {
		t.Errorf("Enqueue did not fill ID/CreatedAt: %q %v", got.ID, got.CreatedAt)
	}
	if err := box.Enqueue(t.Context(), notifier.Notification{Kind: "alert"}); err == nil {
		t.Error("Enqueue without a recipient succeeded")
	}
}

func TestDeliver(t *testing.T) {
	cases := map[string]struct {
		replies    []error
		wantReport Report
		wantStatus string
		wantCalls  int
		check      func(t *testing.T, n state.Notification, start time.Time)
	}{
		"success": {
			wantReport: Report{Sent: 1}, wantStatus: state.StatusSent, wantCalls: 1,
			check: func(t *testing.T, n state.Notification, start time.Time) {
				if !n.SentAt.Equal(start) || n.Attempts != 1 || n.LastError != "" {
					t.Errorf("sent_at %v attempts %d last error %q", n.SentAt, n.Attempts, n.LastError)
				}
			},
		},
		"temporary then success within the round": {
			replies:    []error{errDown, errDown, nil},
			wantReport: Report{Sent: 1}, wantStatus: state.StatusSent, wantCalls: 3,
		},
		"temporary throughout": {
			replies:    []error{errDown},
			wantReport: Report{Retrying: 1}, wantStatus: state.StatusPending, wantCalls: 3,
			check: func(t *testing.T, n state.Notification, start time.Time) {
				if n.Attempts != 1 || !n.NextAttemptAt.Equal(start.Add(BackoffBase)) || !strings.Contains(n.LastError, "connection refused") {
					t.Errorf("attempts %d next %v last error %q", n.Attempts, n.NextAttemptAt, n.LastError)
				}
			},
		},
		"permanent": {
			replies:    []error{errRefused},
			wantReport: Report{Failed: 1}, wantStatus: state.StatusFailed, wantCalls: 1,
			check: func(t *testing.T, n state.Notification, _ time.Time) {
				if n.ServerReply != errRefused.Error() || n.LastError != errRefused.Error() || !n.SentAt.IsZero() {
					t.Errorf("reply %q last error %q sent_at %v", n.ServerReply, n.LastError, n.SentAt)
				}
			},
		},
		"temporary then permanent": {
			replies:    []error{errDown, errRefused},
			wantReport: Report{Failed: 1}, wantStatus: state.StatusFailed, wantCalls: 2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			db, box, c := queued(t, "n1")
			sender := &recordingSender{replies: tc.replies}
			rep, err := box.Deliver(t.Context(), sender, fastOptions(c))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != tc.wantReport.Sent || rep.Retrying != tc.wantReport.Retrying || rep.Failed != tc.wantReport.Failed {
				t.Errorf("report %+v; want %+v", rep, tc.wantReport)
			}
			if failed := rep.Retrying + rep.Failed; len(rep.Errors) != failed {
				t.Errorf("report errors %q; want %d lines", rep.Errors, failed)
			}
			calls := sender.calls()
			if len(calls) != tc.wantCalls {
				t.Fatalf("%d sends; want %d", len(calls), tc.wantCalls)
			}
			for _, got := range calls {
				if got.ID != "n1" || got.Subject != "cpu above 20% on n1" || got.Host != "10.0.0.1:22" || got.To[0] != "ops@example.com" {
					t.Errorf("sent %+v", got)
				}
			}
			n := status(t, db, "n1")
			if n.Status != tc.wantStatus {
				t.Fatalf("status %s; want %s", n.Status, tc.wantStatus)
			}
			if tc.check != nil {
				tc.check(t, n, c.now())
			}
		})
	}
}

// The server is down for a whole round: the notification waits for its
// backoff, is not sent early, and goes out on a later round.
func TestServerDownDuringRoundDeliveredNextRound(t *testing.T) {
	db, box, c := queued(t, "n1")
	ctx := t.Context()
	opts := fastOptions(c)

	sender := &recordingSender{replies: []error{errDown}}
	if rep, err := box.Deliver(ctx, sender, opts); err != nil || rep.Retrying != 1 {
		t.Fatalf("round 1: %+v, %v", rep, err)
	}
	first := status(t, db, "n1")

	c.advance(BackoffBase / 2) // not due yet
	sender = &recordingSender{}
	if rep, err := box.Deliver(ctx, sender, opts); err != nil || rep.Sent+rep.Retrying+rep.Failed+rep.Deferred != 0 || len(sender.calls()) != 0 {
		t.Fatalf("round 2, before the backoff ended: %+v, %v, %d sends", rep, err, len(sender.calls()))
	}

	c.advance(BackoffBase) // due
	if rep, err := box.Deliver(ctx, sender, opts); err != nil || rep.Sent != 1 {
		t.Fatalf("round 3: %+v, %v", rep, err)
	}
	n := status(t, db, "n1")
	if n.Status != state.StatusSent || n.Attempts != 2 || n.LastError != first.LastError || n.LastError == "" {
		t.Errorf("after round 3: %s attempts %d last error %q", n.Status, n.Attempts, n.LastError)
	}
	if rep, err := box.Deliver(ctx, sender, opts); err != nil || rep.Sent != 0 || len(sender.calls()) != 1 {
		t.Errorf("round 4 sent again: %+v, %v, %d sends", rep, err, len(sender.calls()))
	}
}

func TestCrashWhileSending(t *testing.T) {
	cases := map[string]struct {
		lease         time.Duration // of the crashed sender's claim, from now
		wantRecovered int
		wantSent      int
		wantStatus    string
	}{
		"lease over: sent again with the same ID": {lease: -time.Second, wantRecovered: 1, wantSent: 1, wantStatus: state.StatusSent},
		"lease running: left alone":               {lease: time.Hour, wantStatus: state.StatusSending},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			db, box, c := queued(t, "n1")
			ctx := t.Context()
			// A sender claims it, then the process dies before recording anything.
			if _, ok, err := db.ClaimNotification(ctx, "n1", "crashed", c.now(), c.now().Add(tc.lease)); err != nil || !ok {
				t.Fatalf("claim: %v, %v", ok, err)
			}
			sender := &recordingSender{}
			rep, err := box.Deliver(ctx, sender, fastOptions(c))
			if err != nil || rep.Recovered != tc.wantRecovered || rep.Sent != tc.wantSent {
				t.Fatalf("Deliver = %+v, %v", rep, err)
			}
			if calls := sender.calls(); len(calls) != tc.wantSent || (len(calls) == 1 && calls[0].ID != "n1") {
				t.Errorf("sends %+v; want %d with ID n1", calls, tc.wantSent)
			}
			n := status(t, db, "n1")
			if n.Status != tc.wantStatus {
				t.Errorf("status %s; want %s", n.Status, tc.wantStatus)
			}
			if tc.wantRecovered == 1 && (n.Attempts != 2 || !strings.Contains(n.LastError, "same Message-ID")) {
				t.Errorf("attempts %d last error %q; want 2 and the interruption explained", n.Attempts, n.LastError)
			}
		})
	}
}

// Two Deliver calls at once, on one handle or on two (as two processes
// would), send every notification exactly once.
func TestConcurrentDeliverNeverSendsTwice(t *testing.T) {
	for _, handles := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d handles", handles), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), state.FileName)
			dbs := []*state.DB{openDB(t, path)}
			if handles == 2 {
				dbs = append(dbs, openDB(t, path))
			}
			const total = 40
			for i := range total {
				if err := New(dbs[0]).Enqueue(t.Context(), mail(fmt.Sprintf("n%02d", i))); err != nil {
					t.Fatal(err)
				}
			}
			sender := &recordingSender{delay: time.Millisecond}
			var (
				wg      sync.WaitGroup
				reports [2]Report
				errs    [2]error
			)
			for g := range 2 {
				wg.Go(func() {
					box := New(dbs[g%len(dbs)])
					reports[g], errs[g] = box.Deliver(t.Context(), sender, Options{})
				})
			}
			wg.Wait()
			seen := map[string]int{}
			for _, n := range sender.calls() {
				seen[n.ID]++
			}
			for id, times := range seen {
				if times != 1 {
					t.Errorf("%s sent %d times", id, times)
				}
			}
			if len(seen) != total || reports[0].Sent+reports[1].Sent != total {
				t.Errorf("sent %d distinct, reports %+v %+v; want %d", len(seen), reports[0], reports[1], total)
			}
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if reports[0].Sent == 0 || reports[1].Sent == 0 {
				t.Logf("one Deliver did everything (%+v, %+v); the test still checks the claims", reports[0], reports[1])
			}
		})
	}
}

func TestDeliverStopsWhenTheNotifierIsDown(t *testing.T) {
	db, box, c := queued(t, "n0", "n1", "n2", "n3", "n4")
	opts := fastOptions(c)
	opts.MaxConsecutiveTemporary = 2
	sender := &recordingSender{replies: []error{errDown}}
	rep, err := box.Deliver(t.Context(), sender, opts)
	if err != nil || rep.Retrying != 2 || rep.Deferred != 3 {
		t.Fatalf("Deliver = %+v, %v; want 2 retrying, 3 deferred", rep, err)
	}
	if n := len(sender.calls()); n != 2*DefaultMaxAttemptsNow {
		t.Errorf("%d sends; want %d", n, 2*DefaultMaxAttemptsNow)
	}
	if last := rep.Errors[len(rep.Errors)-1]; !strings.Contains(last, "3 notifications left for the next delivery") {
		t.Errorf("last report line %q", last)
	}
	if n := status(t, db, "n4"); n.Attempts != 0 || n.Status != state.StatusPending {
		t.Errorf("deferred notification: %s, %d attempts; want pending, 0", n.Status, n.Attempts)
	}
}

func TestErrorTextsAreRedacted(t *testing.T) {
	db, box, c := queued(t, "n1")
	opts := fastOptions(c)
	opts.Redact = func(s string) string { return strings.ReplaceAll(s, "hunter2", "********") }
	sender := &recordingSender{replies: []error{errors.New("535 authentication failed for password hunter2\nsecond line")}}
	rep, err := box.Deliver(t.Context(), sender, opts)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("Deliver = %+v, %v", rep, err)
	}
	n := status(t, db, "n1")
	for _, text := range []string{n.LastError, n.ServerReply, strings.Join(rep.Errors, "\n")} {
		if strings.Contains(text, "hunter2") || strings.Contains(text, "\n") {
			t.Errorf("text %q holds the secret or a line break", text)
		}
	}
}

func TestBackoff(t *testing.T) {
	cases := map[string]struct {
		attempts int
		jitter   float64
		want     time.Duration
	}{
		"first":               {1, 0, 30 * time.Second},
		"second":              {2, 0, time.Minute},
		"fourth":              {4, 0, 4 * time.Minute},
		"seventh":             {7, 0, 32 * time.Minute},
		"capped":              {8, 0, time.Hour},
		"far out":             {500, 0, time.Hour},
		"zero attempts":       {0, 0, 30 * time.Second},
		"full jitter":         {2, 1, 45 * time.Second},
		"half jitter capped":  {9, 0.5, time.Hour - 450*time.Second},
		"jitter out of range": {1, 7, 22500 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Backoff(tc.attempts, tc.jitter); got != tc.want {
				t.Errorf("Backoff(%d, %v) = %v; want %v", tc.attempts, tc.jitter, got, tc.want)
			}
		})
	}
	// The default schedule stays within [¾, 1] of the unjittered one.
	o := Options{}.withDefaults()
	for attempts := 1; attempts <= 10; attempts++ {
		d, top := o.Backoff(attempts), Backoff(attempts, 0)
		if d > top || d < top*3/4 {
			t.Errorf("default backoff after %d attempts = %v; want within [%v, %v]", attempts, d, top*3/4, top)
		}
	}
}

// TestUnavailableNotifierKeepsTheOrder: a notifier that cannot reach its
// service (notifier.Unavailable) is tried once per Deliver, with no
// retries and no pauses; every notification stays pending in its place,
// and once the service is back they go out once each, oldest first.
func TestUnavailableNotifierKeepsTheOrder(t *testing.T) {
	errUnavailable := notifier.Unavailable(errors.New("dial tcp 127.0.0.1:25: connect: connection refused"))
	tests := map[string]struct {
		down int // Deliver calls while the notifier is unavailable
	}{
		"down for one delivery":     {down: 1},
		"down for three deliveries": {down: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ids := []string{"n0", "n1", "n2", "n3", "n4"}
			db, box, c := queued(t, ids...)
			opts := fastOptions(c)
			opts.RetryDelayNow = time.Hour // an in-round retry would hang the test
			for round := 1; round <= tc.down; round++ {
				down := &recordingSender{replies: []error{errUnavailable}}
				rep, err := box.Deliver(t.Context(), down, opts)
				if err != nil || !rep.Unavailable || rep.Retrying != 1 || rep.Deferred != len(ids)-1 || len(down.calls()) != 1 {
					t.Fatalf("delivery %d while down: %+v, %v, %d sends; want one send, 1 retrying, %d deferred",
						round, rep, err, len(down.calls()), len(ids)-1)
				}
				if want := c.now().Add(Backoff(round, 0)); !rep.RetryAt.Equal(want) {
					t.Errorf("delivery %d: RetryAt %s, want %s (the backoff of attempt %d)", round, rep.RetryAt, want, round)
				}
				if got := down.calls()[0].ID; got != "n0" {
					t.Errorf("delivery %d tried %s, want the oldest, n0", round, got)
				}
				if n := status(t, db, "n0"); n.Status != state.StatusPending || n.Attempts != round || n.LastError == "" {
					t.Errorf("delivery %d: n0 %s, %d attempts, last error %q", round, n.Status, n.Attempts, n.LastError)
				}
				// A notification queued while the notifier is down goes after.
				if round == 1 {
					if err := box.Enqueue(t.Context(), mail("n5")); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, "n5")
				}
			}
			up := &recordingSender{}
			rep, err := box.Deliver(t.Context(), up, opts)
			if err != nil || rep.Sent != len(ids) || rep.Unavailable {
				t.Fatalf("delivery once up: %+v, %v", rep, err)
			}
			var got []string
			for _, n := range up.calls() {
				got = append(got, n.ID)
			}
			if strings.Join(got, " ") != strings.Join(ids, " ") {
				t.Errorf("sent %v; want %v, in that order", got, ids)
			}
			if rep, err := box.Deliver(t.Context(), up, opts); err != nil || rep.Sent != 0 || len(up.calls()) != len(ids) {
				t.Errorf("a further delivery sent again: %+v, %v", rep, err)
			}
		})
	}
}
