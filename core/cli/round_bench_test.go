package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/round"
)

// BenchmarkRound times whole `cscs run` rounds against real OpenSSH sshd
// fleets of 1, 10 and 50 hosts: with the agent cached on the hosts and the
// built-in plugins out of process (as in production) or in process, and
// cold (the agent removed from the hosts before each round). Run it with `make bench`; each reported
// figure is one round (use -count 3 and take the median).
func BenchmarkRound(b *testing.B) {
	agentDir := testagent.Dir(b)
	for _, n := range []int{1, 10, 50} {
		fleet := sshdtest.Start(b, sshdtest.Options{Hosts: n})
		r := benchEnv(b, fleet, agentDir)
		cache := fmt.Sprintf("/tmp/cscs-%d", fleet.UID)
		// Warm up: record host keys and put the agent in place.
		benchRound(b, r, n)
		for _, mode := range []string{"cached", "cached-inprocess", "cold"} {
			b.Run(fmt.Sprintf("hosts=%d/%s", n, mode), func(b *testing.B) {
				var exec []float64
				for i := 0; i < b.N; i++ {
					if mode == "cold" {
						b.StopTimer()
						if err := os.RemoveAll(cache); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					var extra []string
					if mode == "cached-inprocess" {
						extra = append(extra, "--in-process-plugins")
					}
					exec = append(exec, benchRound(b, r, n, extra...)...)
				}
				sort.Float64s(exec)
				b.ReportMetric(exec[len(exec)/2], "agent-exec-ms")
				b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/round")
			})
		}
	}
}

func benchEnv(b *testing.B, fleet *sshdtest.Fleet, agentDir string) roundEnv {
	r := newRoundEnv(b, agentDir)
	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, h := range fleet.Hosts {
		fmt.Fprintf(&cfg, "  <client ip=%q port=\"%d\" username=%q key=%q/>\n", h.IP, h.Port, fleet.User, fleet.KeyFile)
	}
	cfg.WriteString("</clients>\n")
	r.writeConfig(b, cfg.String())
	return r
}

// benchRound runs one round and returns each host's agent exec time in ms.
func benchRound(b *testing.B, r roundEnv, n int, extra ...string) []float64 {
	code, stdout, stderr := runMain(context.Background(), "bench", r.args(append([]string{"--accept-new-host-keys"}, extra...)...)...)
	var out round.Report
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != ExitOK || len(out.Hosts) != n {
		b.Fatalf("round failed: exit %d, %v\n%s", code, err, stderr)
	}
	exec := make([]float64, 0, n)
	for _, h := range out.Hosts {
		exec = append(exec, h.PhasesMS["exec"])
	}
	return exec
}
