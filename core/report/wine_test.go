package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/report"
	"github.com/cscs-dev/cscs/core/transport"
)

// TestWindowsAgentUnderWine is the smoke run of `make test-windows`: the
// windows/amd64 agent (CSCS_WINE_AGENT) runs under Wine (CSCS_WINE_EXEC,
// wine64) on a request as the core builds it for a Windows host, plain and
// after a UTF-8 byte-order mark as a PowerShell pipeline may send it, and
// the report is opened with the core's own code. It skips unless
// CSCS_WINE=1.
func TestWindowsAgentUnderWine(t *testing.T) {
	if os.Getenv("CSCS_WINE") != "1" {
		t.Skip("set CSCS_WINE=1, CSCS_WINE_EXEC and CSCS_WINE_AGENT (make test-windows does)")
	}
	wine, agent := os.Getenv("CSCS_WINE_EXEC"), os.Getenv("CSCS_WINE_AGENT")
	if wine == "" || agent == "" {
		t.Fatal("CSCS_WINE_EXEC and CSCS_WINE_AGENT must name wine64 and the windows agent")
	}
	tests := map[string]string{"plain": "", "after a byte-order mark": "\xEF\xBB\xBF"}
	for name, prefix := range tests {
		t.Run(name, func(t *testing.T) {
			id, err := age.GenerateX25519Identity()
			if err != nil {
				t.Fatal(err)
			}
			nonce, err := report.NewNonce()
			if err != nil {
				t.Fatal(err)
			}
			plat := transport.Platform{OS: "windows", Arch: "amd64"}
			req := protocol.Request{Version: protocol.Version, Recipient: id.Recipient().String(), Nonce: nonce,
				CPUSampleMillis: 200, DeadlineMillis: 60_000, HoldsStdin: transport.HoldsStdin(plat)}
			body, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, wine, agent)
			cmd.Stdin = bytes.NewReader(append([]byte(prefix), body...))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("agent under wine: %v; stderr: %s", err, stderr.Bytes())
			}
			rep, err := report.Open(id, bytes.NewReader(out), nonce)
			if err != nil {
				t.Fatalf("open the report: %v", err)
			}
			if rep.OS != "windows" || rep.Arch != "amd64" {
				t.Errorf("report from %s/%s, want windows/amd64", rep.OS, rep.Arch)
			}
			got := map[string]protocol.ModuleResult{}
			for _, m := range rep.Modules {
				got[m.Name] = m
			}
			// eventlog needs wevtapi's Security log, which Wine lacks.
			for _, name := range []string{"cpu", "memory", "swap", "uptime"} {
				if m, ok := got[name]; !ok || m.Error != "" || len(m.Metrics) == 0 {
					t.Errorf("module %s: %+v, want metrics", name, m)
				}
			}
			if _, ok := got["eventlog"]; !ok {
				t.Error("no eventlog result")
			}
		})
	}
}
