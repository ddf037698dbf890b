package fleetbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/cli"
	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// cpuSample is the agent's CPU window in every cscs round of the benchmark.
const cpuSample = 200 * time.Millisecond

// benchRuns is how many times each case runs; the table gives medians.
const benchRuns = 3

// hostTimeout bounds one host's work in cscs and in the floor.
const hostTimeout = 120 * time.Second

// sizes returns the fleet sizes listed in the environment variable env
// (comma-separated, such as "50" for a quick run), or def.
func sizes(b *testing.B, env string, def []int) []int {
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want fleet sizes such as 50,200", env, v)
		}
		out = append(out, n)
	}
	return out
}

// cscsEnv is a config, data dir and database for in-process `cscs run`s.
type cscsEnv struct {
	config, dataDir, db, agentDir string
	hosts                         int
}

func newCSCSEnv(b *testing.B, addrs []string, user, keyFile, knownHostsData, agentDir string) cscsEnv {
	b.Helper()
	dir := b.TempDir()
	e := cscsEnv{config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: filepath.Join(dir, "cscs.db"), agentDir: agentDir, hosts: len(addrs)}
	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, a := range addrs {
		host, port, _ := strings.Cut(a, ":")
		fmt.Fprintf(&cfg, "  <client ip=%q port=%q username=%q key=%q/>\n", host, port, user, keyFile)
	}
	cfg.WriteString("</clients>\n")
	mustDo(b, os.WriteFile(e.config, []byte(cfg.String()), 0o600))
	mustDo(b, os.MkdirAll(e.dataDir, 0o700))
	if knownHostsData != "" {
		mustDo(b, os.WriteFile(filepath.Join(e.dataDir, "known_hosts"), []byte(knownHostsData), 0o600))
	}
	return e
}

// run is one `cscs run` through cli.Main, as the binary would do it; it
// fails unless every host reports.
func (e cscsEnv) run(ctx context.Context) error {
	_, err := e.runCountingUploads(ctx)
	return err
}

// runCountingUploads is run that also returns how many hosts received the
// agent.
func (e cscsEnv) runCountingUploads(ctx context.Context) (int, error) {
	args := []string{"run", "--config", e.config, "--data-dir", e.dataDir, "--db", e.db,
		"--agent-dir", e.agentDir, "--output", "json", "--cpu-sample", cpuSample.String(),
		"--concurrency", fmt.Sprint(DefaultConcurrency), "--accept-new-host-keys",
		"--connect-timeout", "10s", "--handshake-timeout", "20s", "--host-timeout", hostTimeout.String()}
	var stdout, stderr bytes.Buffer
	code := cli.Main(ctx, args, "bench", strings.NewReader(""), &stdout, &stderr)
	var out struct {
		Counts map[string]int `json:"counts"`
		Hosts  []struct {
			IP       string `json:"ip"`
			Port     int    `json:"port"`
			Status   string `json:"status"`
			Error    string `json:"error"`
			Uploaded bool   `json:"agent_uploaded"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || code != cli.ExitOK || len(out.Hosts) != e.hosts || out.Counts["ok"] != e.hosts {
		var failed []string
		for _, h := range out.Hosts {
			if h.Status != "ok" && len(failed) < 5 {
				failed = append(failed, fmt.Sprintf("%s:%d %s: %s", h.IP, h.Port, h.Status, h.Error))
			}
		}
		return 0, fmt.Errorf("cscs run: exit %d, counts %v of %d hosts, decode error %v\n%s\n%s", code, out.Counts, e.hosts, err,
			strings.Join(failed, "\n"), tail(stderr.String(), 2000))
	}
	uploads := 0
	for _, h := range out.Hosts {
		if h.Uploaded {
			uploads++
		}
	}
	return uploads, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func mustDo(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// measureRuns runs fn benchRuns times (prepare, untimed, before each).
func measureRuns(b *testing.B, name string, hosts, runs int, prepare, fn func() error) Result {
	b.Helper()
	r := Result{Case: name, Hosts: hosts}
	for i := 0; i < runs; i++ {
		if prepare != nil {
			mustDo(b, prepare())
		}
		s, err := Measure(fn)
		if err != nil {
			b.Fatalf("%s, %d hosts: %v", name, hosts, err)
		}
		r.Samples = append(r.Samples, s)
	}
	return r
}

// BenchmarkFleet times, in one run, the floor and `cscs run` (cached and
// cold) against fleets of 50 and 200 real OpenSSH sshd hosts, and pssh when
// installed. `make bench-fleet` runs it with -benchtime 1x.
func BenchmarkFleet(b *testing.B) {
	agentDir := testagent.Dir(b)
	ctx := context.Background()
	var results []Result
	var ratios []Ratio
	for _, n := range sizes(b, "FLEETBENCH_SIZES", []int{50, 200}) {
		fleet := sshdtest.Start(b, sshdtest.Options{Hosts: n})
		var addrs []string
		for _, h := range fleet.Hosts {
			addrs = append(addrs, h.Addr())
		}
		khFile := filepath.Join(b.TempDir(), "known_hosts")
		mustDo(b, os.WriteFile(khFile, []byte(fleet.KnownHosts()), 0o600))
		hostKeys, err := knownhosts.New(khFile)
		mustDo(b, err)
		// The floor gets cscs's --host-timeout: on a loaded machine 200
		// uploads at 64 at a time can take longer than the default 30s.
		floor := Floor{Addrs: addrs, User: fleet.User, Signer: fleet.Signer, HostKeyCallback: hostKeys, Timeout: hostTimeout}
		payload := Payload(FloorPayloadSize)

		env := newCSCSEnv(b, addrs, fleet.User, fleet.KeyFile, "", agentDir)
		remoteDir := fmt.Sprintf("/tmp/cscs-%d", fleet.UID)
		mustDo(b, env.run(ctx)) // warm-up: records host keys, puts the agent in place

		floorExec := measureRuns(b, "floor exec", n, benchRuns, nil, func() error { return floor.Exec(ctx) })
		upload := measureRuns(b, "floor upload+run", n, benchRuns, nil, func() error { return floor.UploadAndRun(ctx, payload, "/tmp") })
		cached := measureRuns(b, "cscs run cached", n, benchRuns, nil, func() error { return env.run(ctx) })
		// The fleet's hosts share one file system: hosts that start after the
		// first upload finished find the agent in place. Count real uploads.
		var uploads []string
		cold := measureRuns(b, "cscs run cold", n, benchRuns, func() error { return os.RemoveAll(remoteDir) }, func() error {
			u, err := env.runCountingUploads(ctx)
			uploads = append(uploads, fmt.Sprint(u))
			return err
		})
		cold.Note = "agent uploads per round: " + strings.Join(uploads, ", ")
		first := len(results)
		results = append(results, floorExec, upload, cached, cold)
		results = append(results, incumbents(b, ctx, fleet, n)...)

		ex, up, ca, co := floorExec.Median(), upload.Median(), cached.Median(), cold.Median()
		these := []Ratio{
			{Name: fmt.Sprintf("N=%d cached / (floor exec + %s)", n, cpuSample), Value: ca.Wall.Seconds() / (ex.Wall + cpuSample).Seconds(), Target: 1.3},
			{Name: fmt.Sprintf("N=%d cold / floor upload+run", n), Value: co.Wall.Seconds() / up.Wall.Seconds(), Target: 1.3},
			{Name: fmt.Sprintf("N=%d core CPU ms/host beyond floor exec (cached)", n), Value: perHostMS(ca.CPU-ex.CPU, n), Target: 3},
		}
		ratios = append(ratios, these...)
		// Each size's figures as soon as they are known: a later failure
		// does not lose them.
		fmt.Println()
		mustDo(b, WriteTable(os.Stdout, results[first:]))
		mustDo(b, WriteRatios(os.Stdout, these))
	}
	fmt.Println()
	mustDo(b, WriteTable(os.Stdout, results))
	fmt.Println()
	mustDo(b, WriteRatios(os.Stdout, ratios))
}

// incumbents measures parallel-ssh with the floor's command when it is
// installed, and says which tools are missing.
func incumbents(b *testing.B, ctx context.Context, fleet *sshdtest.Fleet, n int) []Result {
	var out []Result
	pssh := ""
	for _, name := range []string{"parallel-ssh", "pssh"} {
		if p, err := exec.LookPath(name); err == nil {
			pssh = p
			break
		}
	}
	if pssh == "" {
		out = append(out, Result{Case: "pssh -p 64", Hosts: n, Skipped: "not installed"})
	} else {
		dir := b.TempDir()
		var hosts strings.Builder
		for _, h := range fleet.Hosts {
			fmt.Fprintf(&hosts, "%s\n", h.Addr())
		}
		hostsFile, khFile := filepath.Join(dir, "hosts"), filepath.Join(dir, "known_hosts")
		mustDo(b, os.WriteFile(hostsFile, []byte(hosts.String()), 0o600))
		mustDo(b, os.WriteFile(khFile, []byte(fleet.KnownHosts()), 0o600))
		out = append(out, measureRuns(b, "pssh -p 64", n, benchRuns, nil, func() error {
			cmd := exec.CommandContext(ctx, pssh, "-p", "64", "-h", hostsFile, "-l", fleet.User, "-t", "60",
				"-x", "-i "+fleet.KeyFile+" -o UserKnownHostsFile="+khFile+" -o BatchMode=yes", FloorCommand)
			if msg, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("pssh: %w\n%s", err, tail(string(msg), 2000))
			}
			return nil
		}))
	}
	if _, err := exec.LookPath("ansible"); err != nil {
		out = append(out, Result{Case: "ansible -f 64", Hosts: n, Skipped: "not installed"})
	} else {
		out = append(out, Result{Case: "ansible -f 64", Hosts: n, Skipped: "installed, not measured by this benchmark yet"})
	}
	return out
}

// BenchmarkFleetLarge runs cached `cscs run` rounds against in-process SSH
// fleets of 500, 1000 and 2000 hosts served by a child process (so the
// fleet's CPU and memory are not the core's) and reports the core's CPU
// and peak RSS per fleet size.
func BenchmarkFleetLarge(b *testing.B) {
	agentDir := testagent.Dir(b)
	exe, err := os.Executable()
	mustDo(b, err)
	signer, keyFile := newClientKey(b)
	ctx := context.Background()
	runs := 1
	if v := os.Getenv("FLEETBENCH_LARGE_RUNS"); v != "" {
		fmt.Sscanf(v, "%d", &runs)
	}
	var results []Result
	warm := false
	for _, n := range sizes(b, "FLEETBENCH_LARGE_SIZES", []int{500, 1000, 2000}) {
		fleet, err := StartChildFleet(ctx, exe, n, "bench", signer.PublicKey())
		mustDo(b, err)
		env := newCSCSEnv(b, fleet.Addrs, "bench", keyFile, string(fleet.KnownHosts), agentDir)
		if !warm { // every host shares the child's temp dir: one upload caches the agent
			one := newCSCSEnv(b, fleet.Addrs[:1], "bench", keyFile, string(fleet.KnownHosts), agentDir)
			mustDo(b, one.run(ctx))
			warm = true
		}
		results = append(results, measureRuns(b, "cscs run cached (in-process fleet in a child)", n, runs, nil, func() error { return env.run(ctx) }))
		mustDo(b, fleet.Close())
	}
	fmt.Println()
	mustDo(b, WriteTable(os.Stdout, results))
}

// BenchmarkFleetCachedRound times cached `cscs run` rounds against 200 real
// sshd hosts, one round per iteration after a warm-up: the case to profile
// (go test -bench FleetCachedRound -benchtime 3x -cpuprofile cpu.out).
func BenchmarkFleetCachedRound(b *testing.B) {
	agentDir := testagent.Dir(b)
	ctx := context.Background()
	const n = 200
	fleet := sshdtest.Start(b, sshdtest.Options{Hosts: n})
	var addrs []string
	for _, h := range fleet.Hosts {
		addrs = append(addrs, h.Addr())
	}
	env := newCSCSEnv(b, addrs, fleet.User, fleet.KeyFile, fleet.KnownHosts(), agentDir)
	mustDo(b, env.run(ctx))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustDo(b, env.run(ctx))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "hosts/s")
}
