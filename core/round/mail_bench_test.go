package round

import (
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo"
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
		mailTo(tb, d, tarpit(tb))
	case "refused":
		mailTo(tb, d, closedPort(tb))
	default:
		tb.Fatalf("unknown mail server %q", server)
	}
}

// mailTo rewrites d's email_config.json to send to port on 127.0.0.1.
func mailTo(tb testing.TB, d *demo.Demo, port int) {
	tb.Helper()
	email := fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "security": "none", "from": "cscs@localhost"}`, port)
	if err := os.WriteFile(d.Email, []byte(email), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// tarpit listens on a loopback port, accepts every connection and never
// answers; it returns the port.
func tarpit(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	held := make(chan net.Conn, 1000)
	tb.Cleanup(func() {
		l.Close()
		close(held)
		for c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			select {
			case held <- c: // held open, never greeted
			default:
				c.Close()
			}
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort is a loopback port nothing listens on.
func closedPort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
