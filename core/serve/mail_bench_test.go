package serve

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/internal/mailtest"
)

// BenchmarkRoundMail runs the service's rounds of a two-host in-process
// fleet, each queueing two event-log mails, with the mail going to a
// working SMTP server (the demo's sink), to a tarpit (accepts, never
// answers) and to a closed port (refused), the deliverer running beside
// the rounds as `cscs serve` runs it. It reports the median wall time of
// a round (s/round), which must be about the same for the three, and the
// mails the server received per round (mails/round).
func BenchmarkRoundMail(b *testing.B) {
	for _, server := range []string{"sink", "tarpit", "refused"} {
		b.Run("smtp="+server, func(b *testing.B) {
			var d *demo.Demo
			plan, _ := fleetPlanOf(b, "", func(demo *demo.Demo) {
				d = demo
				switch server {
				case "tarpit":
					mailtest.WriteEmailConfig(b, d.Email, mailtest.Tarpit(b, nil))
				case "refused":
					mailtest.WriteEmailConfig(b, d.Email, mailtest.ClosedPort(b))
				}
			})
			svc := New(plan, nil, Options{Interval: time.Minute, Jitter: -1})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m, stop := svc.startMailer(ctx)
			// A warm-up round: host keys, agents, plugins.
			if _, _, ok := svc.runOnce(ctx, plan, time.Now(), m); !ok {
				b.Fatal("warm-up round did not complete")
			}
			sentBefore := d.Sink.Count()
			took := make([]float64, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				res, _, ok := svc.runOnce(ctx, plan, start, m)
				took = append(took, time.Since(start).Seconds())
				if !ok || !res.Stored || res.Report().Counts["ok"] != 2 {
					b.Fatalf("round: %s, stored %v", res, res.Stored)
				}
			}
			b.StopTimer()
			stop() // the delivery in progress ends (within round.StopGrace)
			sort.Float64s(took)
			b.ReportMetric(took[len(took)/2], "s/round")
			b.ReportMetric(float64(d.Sink.Count()-sentBefore)/float64(b.N), "mails/round")
		})
	}
}
