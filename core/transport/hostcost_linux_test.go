package transport

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// BenchmarkHostCommand measures what a steady round costs a host: the CPU
// (user + system, the command and everything it started) of RunCached's
// command running the real agent with every built-in module, against the
// fleet benchmark's floor command, both under /bin/sh -c as sshd runs them
// (the login shell adds the same to both). It needs the agent built for
// this machine in $CSCS_AGENT_DIR (make bench does that):
//
//	CSCS_AGENT_DIR=$PWD/bin/agents go test -run '^$' -bench HostCommand ./core/transport
func BenchmarkHostCommand(b *testing.B) {
	agentFile := filepath.Join(os.Getenv("CSCS_AGENT_DIR"), "cscs-agent-"+runtime.GOOS+"-"+runtime.GOARCH)
	data, err := os.ReadFile(agentFile)
	if err != nil {
		b.Skipf("no agent for this machine (%v); set CSCS_AGENT_DIR", err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	req, err := json.Marshal(map[string]any{
		"version": 1, "recipient": id.Recipient().String(), "nonce": strings.Repeat("ab", 16),
		"modules": []string{"cpu", "memory", "swap", "uptime", "load", "authlog"}, "cpu_sample_ms": 200,
	})
	if err != nil {
		b.Fatal(err)
	}
	agent := Artifact{Name: "cscs-agent", Data: data}
	dir := filepath.Join(b.TempDir(), "cscs-bench")
	if err := os.Mkdir(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	p := localPlatform(b, dir)
	agentPath, err := agent.RemotePath(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(agentPath, data, 0o700); err != nil {
		b.Fatal(err)
	}
	cached, _, _, err := posixCachedRunCommand(p, agent, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, command string }{
		{"floor cat", posixCommand("cat /proc/loadavg")},
		{"cscs cached", cached},
	} {
		run := func(b *testing.B) time.Duration {
			cmd := exec.Command("/bin/sh", "-c", c.command)
			cmd.Stdin = strings.NewReader(string(req))
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", c.name, err, out)
			}
			return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.Run(c.name, func(b *testing.B) {
			run(b) // the first run hashes the agent and leaves its stamp
			var cpu time.Duration
			for b.Loop() {
				cpu += run(b)
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "host-cpu-ms/op")
		})
	}
}
