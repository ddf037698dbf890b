package outbox

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// laneSender records the order of Sends per recipient set and how many
// ran at once; each Send takes delay.
type laneSender struct {
	delay time.Duration
	// after, when set, runs after each Send.
	after func()

	mu            sync.Mutex
	running, most int
	order         map[string][]string
}

func (s *laneSender) Send(ctx context.Context, n notifier.Notification) error {
	s.mu.Lock()
	s.running++
	s.most = max(s.most, s.running)
	s.mu.Unlock()
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if s.order == nil {
		s.order = map[string][]string{}
	}
	key := fmt.Sprint(n.To)
	s.order[key] = append(s.order[key], n.ID)
	if s.after != nil {
		s.after()
	}
	return nil
}

// TestDeliverLanes: Deliver sends in up to Workers lanes at once, each
// recipient set's notifications in their order.
func TestDeliverLanes(t *testing.T) {
	tests := map[string]struct {
		workers, recipients int
		wantMost            int
	}{
		"one at a time":           {workers: 1, recipients: 8, wantMost: 1},
		"four lanes":              {workers: 4, recipients: 8, wantMost: 2},
		"one recipient, one lane": {workers: 4, recipients: 1, wantMost: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			db := openDB(t, "")
			box := New(db)
			const total = 80
			created := time.Now().Add(-time.Hour)
			for i := range total {
				n := mail(fmt.Sprintf("n%02d", i))
				n.To = []string{fmt.Sprintf("ops%d@example.org", i%tc.recipients)}
				n.CreatedAt = created.Add(time.Duration(i) * time.Second)
				if err := box.Enqueue(t.Context(), n); err != nil {
					t.Fatal(err)
				}
			}
			sender := &laneSender{delay: 2 * time.Millisecond}
			rep, err := box.Deliver(t.Context(), sender, Options{Workers: tc.workers})
			if err != nil || rep.Sent != total {
				t.Fatalf("Deliver = %+v, %v; want %d sent", rep, err, total)
			}
			if sender.most < tc.wantMost || sender.most > max(tc.workers, 1) {
				t.Errorf("at most %d Sends ran at once, want %d to %d", sender.most, tc.wantMost, tc.workers)
			}
			if tc.recipients == 1 && sender.most != 1 {
				t.Errorf("one recipient's notifications ran %d at once", sender.most)
			}
			for to, ids := range sender.order {
				if !slices.IsSorted(ids) {
					t.Errorf("%s: sent out of order: %v", to, ids)
				}
			}
		})
	}
}

// TestDeliverGivesBackStaleClaims: a claimed notification that waited
// longer than batchWindow for its turn is not sent under its aging lease
// but given back, unchanged, for the next Deliver.
func TestDeliverGivesBackStaleClaims(t *testing.T) {
	db := openDB(t, "")
	box := New(db)
	const total = 10
	for i := range total {
		n := mail(fmt.Sprintf("n%02d", i))
		n.CreatedAt = time.Now().Add(-time.Hour + time.Duration(i)*time.Second)
		if err := box.Enqueue(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Now()}
	sends := 0
	// The second Send (the first of the parallel lanes) takes longer than
	// the window: the notifications claimed with it wait too long.
	sender := &laneSender{after: func() {
		sends++
		if sends == 2 {
			clk.advance(batchWindow + time.Second)
		}
	}}
	rep, err := box.Deliver(t.Context(), sender, Options{Workers: 1, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || rep.Deferred != total-2 || len(rep.Errors) != 1 {
		t.Fatalf("Deliver = %+v, want 2 sent and %d left for the next delivery with a note", rep, total-2)
	}
	for i := 2; i < total; i++ {
		n, err := db.Notification(t.Context(), fmt.Sprintf("n%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		if n.Status != state.StatusPending || n.Attempts != 0 {
			t.Errorf("%s: status %s, %d attempts; want pending, untouched", n.ID, n.Status, n.Attempts)
		}
	}
	clk.advance(time.Second)
	rep, err = box.Deliver(t.Context(), sender, Options{Workers: 1, Now: clk.now})
	if err != nil || rep.Sent != total-2 {
		t.Fatalf("next Deliver = %+v, %v; want the %d left sent", rep, err, total-2)
	}
}
