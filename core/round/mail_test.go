package round

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo/mailsink"
	"github.com/cscs-dev/cscs/core/internal/mailtest"
	"github.com/cscs-dev/cscs/core/state"
)

// TestMailWaitsForAServerThatIsDown: with the mail server refusing
// connections, rounds run beside a Deliverer (as cscs serve runs them)
// queue their mail and are stored without waiting for it; each delivery
// tries the server once, then holds the channel until its backoff ends,
// so a delivery during the hold tries nothing. Once a server listens on
// the port again, a delivery with a new plan (a reload) tries at once,
// held or not, and sends every notification once, oldest first.
func TestMailWaitsForAServerThatIsDown(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 2)
	port := mailtest.ClosedPort(t)
	mailtest.WriteEmailConfig(t, d.Email, port)
	plan := demoPlan(t, d, nil)
	plan.Settings.MailRetry = 100 * time.Millisecond // the hold after a refusal
	dl := NewDeliverer()
	for round := 1; round <= 2; round++ {
		var rec recorder
		res := RunWith(ctx, plan, &rec, RunOptions{Deliverer: dl})
		if !res.Stored || !res.Notified || res.Report().Counts["ok"] != 2 {
			t.Fatalf("round %d: %s, stored %v, notified %v; notes %v", round, res, res.Stored, res.Notified, rec.notes)
		}
		if text := noteText(rec.notes); strings.Contains(text, "mail:") {
			t.Errorf("round %d delivered mail itself: %s", round, text)
		}
		var first recorder
		del := dl.Deliver(ctx, plan, &first)
		if del.Sent != 0 || del.Waiting == 0 || del.Held != 1 || !del.OK || del.Next.IsZero() {
			t.Errorf("round %d, delivery while down: %+v; want nothing sent, the channel held", round, del)
		}
		if n := strings.Count(noteText(first.notes), "the notifier is unavailable"); n != 1 {
			t.Errorf("round %d: %d attempts in a delivery, want 1: %s", round, n, noteText(first.notes))
		}
		var during recorder
		if del := dl.Deliver(ctx, plan, &during); del.Held != 1 || del.Waiting != 0 || len(during.notes) != 0 {
			t.Errorf("round %d, delivery during the hold: %+v, notes %v; want no attempt", round, del, during.notes)
		}
		if round == 1 {
			time.Sleep(time.Until(del.Next)) // the hold ends: round 2's delivery tries again
			plan.Settings.MailRetry = time.Hour
		}
	}
	want := outboxOrder(t, d.DataDir)
	if len(want) < 4 {
		t.Fatalf("%d notifications in the outbox, want at least the 4 event-log mails", len(want))
	}
	if got := outboxCount(t, d.DataDir, state.StatusPending); got != len(want) {
		t.Fatalf("%d of %d notifications pending while the server was down", got, len(want))
	}

	sink, err := mailsink.StartOn(fmt.Sprintf("127.0.0.1:%d", port), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	plan = demoPlan(t, d, nil) // reloaded: the hour's hold is lifted
	var up recorder
	if del := dl.Deliver(ctx, plan, &up); del.Sent != len(want) || del.Held != 0 || !del.OK {
		t.Fatalf("delivery once the server is back: %+v; want %d sent; notes %v", del, len(want), up.notes)
	}
	if got := receivedIDs(t, sink.Dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the server received\n%v\nwant the outbox's order\n%v", got, want)
	}
	if del := dl.Deliver(ctx, plan, &up); del.Sent != 0 || sink.Count() != len(want) {
		t.Errorf("a further delivery: %+v, the server has %d mails; want none sent again", del, sink.Count())
	}
}

// TestOverlappingDeliveriesSendOnce: a deliverer beside the rounds, a
// second one (another `cscs serve`) and a round delivering its own mail
// (`cscs run`) all deliver the same outbox at once; every notification
// reaches the server exactly once.
func TestOverlappingDeliveriesSendOnce(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 2)
	plan := demoPlan(t, d, nil)
	beside := NewDeliverer()
	for range 3 { // queued, not sent
		if res := RunWith(ctx, plan, &recorder{}, RunOptions{Deliverer: beside}); !res.Stored {
			t.Fatalf("round: %s, not stored", res)
		}
	}
	var wg sync.WaitGroup
	for _, dl := range []*Deliverer{beside, NewDeliverer()} {
		wg.Go(func() { dl.Deliver(ctx, plan, &recorder{}) })
	}
	wg.Go(func() { Run(ctx, plan, &recorder{}) })
	wg.Wait()
	want := outboxOrder(t, d.DataDir)
	if got := outboxCount(t, d.DataDir, state.StatusSent); got != len(want) {
		t.Errorf("%d of %d notifications sent", got, len(want))
	}
	got := receivedIDs(t, d.Sink.Dir)
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s reached the server %d times", id, n)
		}
	}
	if len(got) != len(want) || len(seen) != len(want) {
		t.Errorf("the server received %d mails (%d distinct) for %d notifications", len(got), len(seen), len(want))
	}
}

// outboxOrder are the ids of every notification in the outbox under
// dataDir, oldest first (the order they are sent in).
func outboxOrder(t *testing.T, dataDir string) []string {
	t.Helper()
	db := stateSQL(t, dataDir)
	rows, err := db.Query(`SELECT id FROM notifications ORDER BY created_at, rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// outboxCount counts the notifications with status under dataDir.
func outboxCount(t *testing.T, dataDir, status string) int {
	t.Helper()
	var n int
	if err := stateSQL(t, dataDir).QueryRow(`SELECT count(*) FROM notifications WHERE status = ?`, status).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func stateSQL(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+state.Path(dataDir)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// receivedIDs are the notification ids of the mails a sink stored in dir,
// in the order they arrived (the left part of their Message-IDs).
func receivedIDs(t *testing.T, dir string) []string {
	t.Helper()
	var ids []string
	for _, msg := range readSink(t, dir) {
		id := strings.Trim(msg.Header.Get("Message-Id"), "<>")
		if at := strings.IndexByte(id, '@'); at >= 0 {
			id = id[:at]
		}
		ids = append(ids, id)
	}
	return ids
}
