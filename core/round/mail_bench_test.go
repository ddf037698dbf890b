package round

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/internal/mailtest"
)

// BenchmarkRunMail runs rounds of a two-host demo fleet whose every
// round queues two event-log mails, as `cscs run` runs one (Run: the
// round delivers its own mail beside storing it, within MailWait), with
// the mail going to a working SMTP server (the demo's sink), to a tarpit
// (accepts, never answers) and to a closed port (refused). It reports
// the median wall time of a run (s/round): a refused connection costs
// nothing measurable, a tarpit at most the SMTP notifier's connect
// timeout. The rounds of `cscs serve` are measured by the serve
// package's BenchmarkRoundMail.
func BenchmarkRunMail(b *testing.B) {
	for _, server := range []string{"sink", "tarpit", "refused"} {
		b.Run("smtp="+server, func(b *testing.B) {
			d := startDemo(b, 2)
			pointMailAt(b, d, server)
			plan := demoPlan(b, d, nil)
			var took []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res := Run(context.Background(), plan, &recorder{})
				took = append(took, time.Since(start).Seconds())
				if res.Report().Counts["ok"] != 2 || !res.Stored {
					b.Fatalf("round: %s, stored %v", res, res.Stored)
				}
			}
			sort.Float64s(took)
			b.ReportMetric(took[len(took)/2], "s/round")
		})
	}
}

// pointMailAt rewrites d's email_config.json to send to server: "sink"
// keeps the demo's mail sink, "tarpit" is a listener that accepts and
// never answers, "refused" a closed port.
func pointMailAt(tb testing.TB, d *demo.Demo, server string) {
	tb.Helper()
	switch server {
	case "sink":
	case "tarpit":
		mailtest.WriteEmailConfig(tb, d.Email, mailtest.Tarpit(tb, nil))
	case "refused":
		mailtest.WriteEmailConfig(tb, d.Email, mailtest.ClosedPort(tb))
	default:
		tb.Fatalf("unknown mail server %q", server)
	}
}
