package round

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo/mailsink"
	"github.com/cscs-dev/cscs/core/internal/mailtest"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// outboxBenchMails and outboxBenchRecipients shape BenchmarkOutbox2000's
// queue: 2,000 mails to 20 mailboxes, queued round-robin, as 100 rounds
// of alerts for 20 hosts would queue them.
const (
	outboxBenchMails      = 2000
	outboxBenchRecipients = 20
)

// BenchmarkOutbox2000 delivers 2,000 queued notifications to a local
// SMTP server (the demo's mail sink) as a service delivers its outbox: a
// Deliverer starts the built-in SMTP notifier out of process, as a round
// does, and delivers until the outbox is empty. sink=memory keeps the
// mails in the sink's memory, so that the figure is the cost of cscs and
// SMTP; sink=files writes each to an .eml file, as `cscs demo` does. It
// reports the median wall time of delivering the 2,000 (s/2000) and the
// rate (mails/s).
func BenchmarkOutbox2000(b *testing.B) {
	for _, where := range []string{"memory", "files"} {
		b.Run("sink="+where, func(b *testing.B) {
			d := startDemo(b, 1)
			sink := d.Sink
			if where == "memory" {
				var err error
				if sink, err = mailsink.Start(""); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { sink.Close() })
				mailtest.WriteEmailConfig(b, d.Email, sink.Port)
			}
			plan := demoPlan(b, d, func(env *Environment) { env.InProcessPlugins = false })
			ctx := context.Background()
			st, err := state.Open(ctx, state.Path(d.DataDir), state.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ob := outbox.New(st)
			var took []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				queueBenchMails(b, ob, i)
				before := sink.Count()
				b.StartTimer()
				start := time.Now()
				dl := NewDeliverer()
				sent := 0
				for tries := 0; sent < outboxBenchMails && tries < 10; tries++ {
					rec := &recorder{}
					res := dl.Deliver(ctx, plan, rec)
					if !res.OK {
						b.Fatalf("delivery: %+v %v", res, rec.notes)
					}
					sent += res.Sent
				}
				took = append(took, time.Since(start).Seconds())
				b.StopTimer()
				if got := sink.Count() - before; sent != outboxBenchMails || got != outboxBenchMails {
					b.Fatalf("sent %d, the sink received %d, want %d", sent, got, outboxBenchMails)
				}
				b.StartTimer()
			}
			sort.Float64s(took)
			med := took[len(took)/2]
			b.ReportMetric(med, "s/2000")
			b.ReportMetric(outboxBenchMails/med, "mails/s")
		})
	}
}

// queueBenchMails queues BenchmarkOutbox2000's mails for iteration i.
func queueBenchMails(tb testing.TB, ob *outbox.Outbox, i int) {
	tb.Helper()
	created := time.Now().Add(-time.Minute)
	for k := 0; k < outboxBenchMails; k++ {
		n := notifier.Notification{
			ID:        fmt.Sprintf("cscs.bench%d.%04d", i, k),
			Kind:      "alert",
			To:        []string{fmt.Sprintf("admin%02d@example.org", k%outboxBenchRecipients)},
			Subject:   fmt.Sprintf("[CSCS] alert %d", k),
			Body:      "CPU usage 97% on host 10.0.0.1 for 5 minutes.\n",
			Host:      fmt.Sprintf("10.0.0.%d:22", k%outboxBenchRecipients+1),
			CreatedAt: created.Add(time.Duration(k) * time.Millisecond),
		}
		if err := ob.Enqueue(context.Background(), n); err != nil {
			tb.Fatal(err)
		}
	}
}
