package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// batchSender is a notifier.BatchSender: fail says how the n-th send of
// a notification ends (nil: delivered); limit, when set, is the most it
// sends in one SendBatch before stopping early without a failure.
type batchSender struct {
	fail  func(id string, try int) error
	limit int

	mu        sync.Mutex
	tries     map[string]int
	delivered []string
	batches   []int
	alone     int
}

func (s *batchSender) one(n notifier.Notification) error {
	if s.tries == nil {
		s.tries = map[string]int{}
	}
	s.tries[n.ID]++
	if err := s.fail(n.ID, s.tries[n.ID]); err != nil {
		return err
	}
	s.delivered = append(s.delivered, n.ID)
	return nil
}

func (s *batchSender) Send(_ context.Context, n notifier.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alone++
	return s.one(n)
}

func (s *batchSender) SendBatch(_ context.Context, ns []notifier.Notification) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, len(ns))
	for i, n := range ns {
		if s.limit > 0 && i == s.limit {
			return i, nil
		}
		if err := s.one(n); err != nil {
			return i, err
		}
	}
	return len(ns), nil
}

// TestDeliverInBatches: a lane hands a BatchSender what waits in it in
// one call; a failure in a batch is that notification's (retried alone,
// failed, or holding the channel when the notifier is unavailable) and
// the ones after it go out after it, in their order.
func TestDeliverInBatches(t *testing.T) {
	const total = 40
	deliverAll := func(string, int) error { return nil }
	tests := map[string]struct {
		fail  func(id string, try int) error
		limit int
		// nothing: SendBatch sends nothing and says no failure.
		nothing bool
		// want: delivered, retrying, failed, deferred; the ids not
		// delivered, with their status; the fewest SendBatch calls.
		sent, retrying, failed, deferred int
		left                             map[string]string
		calls                            int
		// retried is sent a second time, alone, after failing in a batch.
		retried string
	}{
		"all delivered": {fail: deliverAll, sent: total},
		"temporary failure, retried alone": {
			fail: func(id string, try int) error {
				if id == "n10" && try == 1 {
					return notifier.Temporary(errors.New("421 try again"))
				}
				return nil
			},
			sent: total, retried: "n10",
		},
		"permanent failure": {
			fail: func(id string, _ int) error {
				if id == "n10" {
					return errors.New("550 mailbox unavailable")
				}
				return nil
			},
			sent: total - 1, failed: 1, left: map[string]string{"n10": state.StatusFailed},
		},
		"unavailable mid-batch": {
			fail: func(id string, _ int) error {
				if id >= "n10" {
					return notifier.Unavailable(errors.New("connection refused"))
				}
				return nil
			},
			sent: 10, retrying: 1, deferred: total - 11,
			left: map[string]string{"n10": state.StatusPending, "n11": state.StatusPending, "n39": state.StatusPending},
		},
		"stops early without a failure":   {fail: deliverAll, limit: 3, sent: total, calls: (total - 1) / 3},
		"sends nothing without a failure": {fail: deliverAll, nothing: true, sent: total},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ids := make([]string, total)
			for i := range ids {
				ids[i] = fmt.Sprintf("n%02d", i)
			}
			db, box, clk := queued(t, ids...)
			s := &batchSender{fail: tc.fail, limit: tc.limit}
			var sender Sender = s
			if tc.nothing {
				sender = nothingSent{s}
			}
			opts := fastOptions(clk)
			opts.Workers = 1
			rep, err := box.Deliver(t.Context(), sender, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != tc.sent || rep.Retrying != tc.retrying || rep.Failed != tc.failed || rep.Deferred != tc.deferred {
				t.Fatalf("Deliver = %d sent, %d retrying, %d failed, %d deferred; want %d, %d, %d, %d (%v)",
					rep.Sent, rep.Retrying, rep.Failed, rep.Deferred, tc.sent, tc.retrying, tc.failed, tc.deferred, rep.Errors)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if !slices.IsSorted(s.delivered) || len(s.delivered) != tc.sent {
				t.Errorf("delivered %v, want %d in their order", s.delivered, tc.sent)
			}
			if !tc.nothing && (len(s.batches) == 0 || slices.Max(s.batches) < 2 || len(s.batches) < tc.calls) {
				t.Errorf("batches of %v: want the lane's notifications handed over together, in at least %d calls", s.batches, tc.calls)
			}
			if tc.retried != "" && (s.tries[tc.retried] != 2 || s.alone < 2) {
				t.Errorf("%s was sent %d times, %d Sends alone; want it retried alone", tc.retried, s.tries[tc.retried], s.alone)
			}
			for id, want := range tc.left {
				if got := status(t, db, id); got.Status != want {
					t.Errorf("%s: status %s, want %s", id, got.Status, want)
				}
			}
			if tc.deferred > 0 {
				if got := status(t, db, "n39"); got.Attempts != 0 {
					t.Errorf("n39 has %d attempts, want none: it was not tried", got.Attempts)
				}
			}
		})
	}
}

// nothingSent is a BatchSender whose SendBatch sends nothing and says no
// failure: the lane must still move on, one Send at a time.
type nothingSent struct{ s *batchSender }

func (n nothingSent) Send(ctx context.Context, x notifier.Notification) error {
	return n.s.Send(ctx, x)
}
func (n nothingSent) SendBatch(context.Context, []notifier.Notification) (int, error) {
	return 0, nil
}
