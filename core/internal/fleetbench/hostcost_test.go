package fleetbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/agentstore"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/transport"
)

// BenchmarkFleetHostCost splits what a cached round costs a fleet of 200
// sshd hosts sharing this machine. Each case but the last runs one command
// per host with the floor's client: `cat` (the floor), the `stat` the
// cached command adds, the agent alone with a 1 ms and a 200 ms sampling
// window, and stat then agent; the last is a whole cached `cscs run`. The
// machine CPU column is what to compare: the hosts' CPU is in it. Run as
// root (FLEETBENCH_SIZES picks other sizes):
//
//	CSCS_AGENT_DIR=$PWD/bin/agents go test -run '^$' -bench FleetHostCost -benchtime 1x ./core/internal/fleetbench/
func BenchmarkFleetHostCost(b *testing.B) {
	agentDir := testagent.Dir(b)
	ctx := context.Background()
	for _, n := range sizes(b, "FLEETBENCH_SIZES", []int{200}) {
		fleet, addrs, floor := startFleet(b, n)
		env := newCSCSEnv(b, addrs, fleet.User, fleet.KeyFile, "", agentDir)
		mustDo(b, env.run(ctx)) // puts the agent in place, where every host finds it

		data, err := os.ReadFile(filepath.Join(agentDir, agentstore.FileName(runtime.GOOS, runtime.GOARCH)))
		mustDo(b, err)
		remoteDir := fmt.Sprintf("/tmp/cscs-%d", fleet.UID)
		agent, err := transport.Artifact{Name: "cscs-agent", Data: data}.RemotePath(
			transport.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH, RemoteDir: remoteDir})
		mustDo(b, err)
		stat := `st=$(stat -c "%a %i %s %.9Y %.9Z" ` + remoteDir + ` ` + agent + `)`
		shortWindow, window := agentRequest(b, 1), agentRequest(b, int(cpuSample.Milliseconds()))

		perHost := func(name, command string, stdin []byte) benchCase {
			return benchCase{name: name, fn: func() error {
				return floor.each(ctx, func(ctx context.Context, c *ssh.Client, _ string) error {
					out, err := runCommand(ctx, c, command, stdin)
					if err == nil && len(out) == 0 {
						err = fmt.Errorf("%q printed nothing", command)
					}
					return err
				})
			}}
		}
		measured := measureInterleaved(b, n, floorRuns, []benchCase{
			perHost("cat", FloorCommand, nil),
			perHost("stat, cat", stat+"; "+FloorCommand, nil),
			perHost("agent, 1 ms window", agent, shortWindow),
			perHost("agent, 200 ms window", agent, window),
			perHost("stat, agent 200 ms", stat+"; exec "+agent, window),
			{name: "cscs run cached", fn: func() error { return env.run(ctx) }},
		})
		fmt.Println()
		mustDo(b, WriteTable(os.Stdout, measured))
	}
}

// agentRequest is a request for every built-in module with the given
// sampling window, to a throwaway key.
func agentRequest(b *testing.B, windowMillis int) []byte {
	id, err := age.GenerateX25519Identity()
	mustDo(b, err)
	req, err := json.Marshal(protocol.Request{Version: protocol.Version, Recipient: id.Recipient().String(),
		Nonce: "fleetbench", CPUSampleMillis: windowMillis})
	mustDo(b, err)
	return req
}
