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

// benchRuns is how many times each incumbent runs, and floorRuns each
// case of the floor and cscs (interleaved); the table gives medians.
const (
	benchRuns = 3
	floorRuns = 5
)

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
	// extra are more arguments of every run (--email-config, ...).
	extra []string
}

func newCSCSEnv(b *testing.B, addrs []string, user, keyFile, knownHostsData, agentDir string) cscsEnv {
	return newCSCSEnvWith(b, addrs, user, agentDir, cscsOptions{KeyFile: keyFile, KnownHosts: knownHostsData})
}

// cscsOptions say how the clients of a cscsEnv log in and what mail a
// round sends.
type cscsOptions struct {
	// KeyFile, else Password, is how every client logs in.
	KeyFile, Password string
	// KnownHosts is known_hosts's content ("": the first round records
	// the keys).
	KnownHosts string
	// MailPort, when not 0, gives every client a mail address and an
	// alert that fires, and is mailed, every round, sent to an SMTP
	// server on 127.0.0.1:MailPort: what a round costs with its mail.
	MailPort int
}

func newCSCSEnvWith(b *testing.B, addrs []string, user, agentDir string, o cscsOptions) cscsEnv {
	b.Helper()
	dir := b.TempDir()
	e := cscsEnv{config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: filepath.Join(dir, "cscs.db"), agentDir: agentDir, hosts: len(addrs)}
	login := fmt.Sprintf("key=%q", o.KeyFile)
	if o.KeyFile == "" {
		mustDo(b, os.WriteFile(filepath.Join(dir, "pw"), []byte(o.Password+"\n"), 0o600))
		login = `password="file:pw"`
	}
	inner := ""
	if o.MailPort != 0 {
		login += ` mail="ops@example.com"`
		inner = "\n    <alert type=\"uptime\" limit=\"&gt;1s\"/>\n  "
		email := filepath.Join(dir, "email_config.json")
		mustDo(b, os.WriteFile(email, []byte(fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "security": "none", "from": "cscs@localhost"}`, o.MailPort)), 0o600))
		e.extra = append(e.extra, "--email-config", email, "--alert-repeat", "0s")
	}
	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, a := range addrs {
		host, port, _ := strings.Cut(a, ":")
		fmt.Fprintf(&cfg, "  <client ip=%q port=%q username=%q %s>%s</client>\n", host, port, user, login, inner)
	}
	cfg.WriteString("</clients>\n")
	mustDo(b, os.WriteFile(e.config, []byte(cfg.String()), 0o600))
	mustDo(b, os.MkdirAll(e.dataDir, 0o700))
	if o.KnownHosts != "" {
		mustDo(b, os.WriteFile(filepath.Join(e.dataDir, "known_hosts"), []byte(o.KnownHosts), 0o600))
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
		"--accept-new-host-keys", // --concurrency and --max-handshakes: cscs's defaults
		"--connect-timeout", "10s", "--handshake-timeout", "20s", "--host-timeout", hostTimeout.String()}
	args = append(args, e.extra...)
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

// benchCase is one case of measureInterleaved: prepare (untimed, may be
// nil) then fn.
type benchCase struct {
	name        string
	prepare, fn func() error
}

// measureInterleaved runs every case once per round, runs rounds, and
// returns the cases' results in order.
func measureInterleaved(b *testing.B, hosts, runs int, cases []benchCase) []Result {
	b.Helper()
	out := make([]Result, len(cases))
	for i, c := range cases {
		out[i] = Result{Case: c.name, Hosts: hosts}
	}
	for range runs {
		for i, c := range cases {
			out[i].Samples = append(out[i].Samples, measureRuns(b, c.name, hosts, 1, c.prepare, c.fn).Samples...)
		}
	}
	return out
}

// measureRuns runs fn runs times (prepare, untimed, before each).
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

// startSink starts a mail sink in a child process until the benchmark
// ends.
func startSink(b *testing.B) *ChildSink {
	exe, err := os.Executable()
	mustDo(b, err)
	sink, err := StartChildSink(context.Background(), exe)
	mustDo(b, err)
	b.Cleanup(func() { sink.Close() })
	return sink
}

// startFleet starts n sshd hosts and returns them, their addresses and the
// floor's client for them. The floor gets cscs's --host-timeout: on a
// loaded machine 200 uploads at 64 at a time can take longer than the
// default 30s.
func startFleet(b *testing.B, n int) (*sshdtest.Fleet, []string, Floor) {
	fleet := sshdtest.Start(b, sshdtest.Options{Hosts: n})
	var addrs []string
	for _, h := range fleet.Hosts {
		addrs = append(addrs, h.Addr())
	}
	khFile := filepath.Join(b.TempDir(), "known_hosts")
	mustDo(b, os.WriteFile(khFile, []byte(fleet.KnownHosts()), 0o600))
	hostKeys, err := knownhosts.New(khFile)
	mustDo(b, err)
	return fleet, addrs, Floor{Addrs: addrs, User: fleet.User, Signer: fleet.Signer, HostKeyCallback: hostKeys, Timeout: hostTimeout}
}

// BenchmarkFleet times, in one run, the floor and `cscs run` (cached and
// cold) against fleets of 50, 200 and 500 real OpenSSH sshd hosts, and pssh
// and Ansible when installed. `make bench-fleet` runs it with -benchtime 1x
// (about 24 minutes on 2 cores; FLEETBENCH_SIZES=50,200 for 8).
func BenchmarkFleet(b *testing.B) {
	agentDir := testagent.Dir(b)
	ctx := context.Background()
	var results []Result
	var ratios []Ratio
	for _, n := range sizes(b, "FLEETBENCH_SIZES", []int{50, 200, 500}) {
		fleet, addrs, floor := startFleet(b, n)
		payload := Payload(FloorPayloadSize)
		// Every cscs case mails: each client has a mail address and a rule
		// mailed every round, to a live SMTP server (in memory, in a child:
		// its CPU is not the core's).
		sink := startSink(b)

		env := newCSCSEnvWith(b, addrs, fleet.User, agentDir, cscsOptions{KeyFile: fleet.KeyFile, MailPort: sink.Port})
		pwEnv := newCSCSEnvWith(b, addrs, fleet.User, agentDir, cscsOptions{Password: fleet.Password, MailPort: sink.Port})
		pwFloor := floor
		pwFloor.Signer, pwFloor.Password = nil, fleet.Password
		remoteDir := fmt.Sprintf("/tmp/cscs-%d", fleet.UID)
		mustDo(b, env.run(ctx)) // warm-up: records host keys, puts the agent in place
		mustDo(b, pwEnv.run(ctx))
		mailsBefore, err := sink.Count()
		mustDo(b, err)

		// The fleet's hosts share one file system: hosts that start after the
		// first upload finished find the agent in place. Count real uploads.
		var uploads []string
		// Interleaved, so that a slower spell of the machine weighs on the
		// floor and on cscs alike. Cold runs last: it leaves the agent in
		// place for the next cached run.
		measured := measureInterleaved(b, n, floorRuns, []benchCase{
			{name: "floor exec", fn: func() error { return floor.Exec(ctx) }},
			{name: "cscs run cached", fn: func() error { return env.run(ctx) }},
			{name: "floor exec password", fn: func() error { return pwFloor.Exec(ctx) }},
			{name: "cscs run cached password", fn: func() error { return pwEnv.run(ctx) }},
			{name: "floor upload+run", fn: func() error { return floor.UploadAndRun(ctx, payload, "/tmp") }},
			{name: "cscs run cold", prepare: func() error { return os.RemoveAll(remoteDir) }, fn: func() error {
				u, err := env.runCountingUploads(ctx)
				uploads = append(uploads, fmt.Sprint(u))
				return err
			}},
		})
		floorExec, cached, pwExec, pwCached, upload, cold := measured[0], measured[1], measured[2], measured[3], measured[4], measured[5]
		cold.Note = "agent uploads per round: " + strings.Join(uploads, ", ")
		mailsAfter, err := sink.Count()
		mustDo(b, err)
		cached.Note = fmt.Sprintf("mails received in the measured rounds: %d (cscs cases: every client mailed every round)", mailsAfter-mailsBefore)
		first := len(results)
		results = append(results, floorExec, pwExec, upload, cached, pwCached, cold)
		others := incumbents(b, ctx, fleet, n)
		results = append(results, others...)

		ex, pex, up, ca, pca, co := floorExec.Median(), pwExec.Median(), upload.Median(), cached.Median(), pwCached.Median(), cold.Median()
		these := []Ratio{
			{Name: fmt.Sprintf("N=%d cached / (floor exec + %s), key, with mail", n, cpuSample), Value: ca.Wall.Seconds() / (ex.Wall + cpuSample).Seconds(), Target: 1.15},
			{Name: fmt.Sprintf("N=%d cached / (floor exec + %s), password, with mail", n, cpuSample), Value: pca.Wall.Seconds() / (pex.Wall + cpuSample).Seconds(), Target: 1.15},
			{Name: fmt.Sprintf("N=%d cold / floor upload+run", n), Value: co.Wall.Seconds() / up.Wall.Seconds(), Target: 1.3},
			{Name: fmt.Sprintf("N=%d core CPU ms/host beyond floor exec (cached, key)", n), Value: perHostMS(ca.CPU-ex.CPU, n), Target: 1.5},
			{Name: fmt.Sprintf("N=%d machine CPU ms/host beyond floor exec (cached, key: the hosts' share too)", n), Value: perHostMS(ca.MachineCPU-ex.MachineCPU, n), Target: 1.5 + 3},
		}
		// Faster than the incumbents: their wall time over cscs's, cached.
		// The targets: parallel-ssh with OpenSSH's defaults and
		// Ansible's setup; the other cases (a fast key exchange, Ansible
		// running the floor's command) only need cscs not slower.
		conc := fmt.Sprint(DefaultConcurrency)
		targets := map[string]float64{"pssh -p " + conc: 4, "ansible setup -f " + conc: 15}
		for _, o := range others {
			if o.Skipped == "" {
				target, ok := targets[o.Case]
				if !ok {
					target = 1
				}
				these = append(these, Ratio{Name: fmt.Sprintf("N=%d %s / cscs cached", n, o.Case), Value: o.Median().Wall.Seconds() / ca.Wall.Seconds(), Target: target, AtLeast: true})
			}
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

// incumbents measures parallel-ssh (OpenSSH's default key exchange, then
// curve25519 as the floor uses) and Ansible's ad-hoc shell module with the
// floor's command when they are installed, and says which are missing.
// FLEETBENCH_INCUMBENTS=0 leaves them out, for a quicker run.
func incumbents(b *testing.B, ctx context.Context, fleet *sshdtest.Fleet, n int) []Result {
	if os.Getenv("FLEETBENCH_INCUMBENTS") == "0" {
		return nil
	}
	dir := b.TempDir()
	khFile := filepath.Join(dir, "known_hosts")
	mustDo(b, os.WriteFile(khFile, []byte(fleet.KnownHosts()), 0o600))
	sshOpts := "-i " + fleet.KeyFile + " -o UserKnownHostsFile=" + khFile + " -o BatchMode=yes"
	conc := fmt.Sprint(DefaultConcurrency)
	var out []Result

	pssh := ""
	for _, name := range []string{"parallel-ssh", "pssh"} {
		if p, err := exec.LookPath(name); err == nil {
			pssh = p
			break
		}
	}
	if pssh == "" {
		out = append(out, Result{Case: "pssh -p " + conc, Hosts: n, Skipped: "not installed"})
	} else {
		var hosts strings.Builder
		for _, h := range fleet.Hosts {
			fmt.Fprintf(&hosts, "%s\n", h.Addr())
		}
		hostsFile := filepath.Join(dir, "hosts")
		mustDo(b, os.WriteFile(hostsFile, []byte(hosts.String()), 0o600))
		for _, c := range []struct{ name, opts string }{
			{"pssh -p " + conc, sshOpts},
			{"pssh -p " + conc + " curve25519", sshOpts + " -o KexAlgorithms=curve25519-sha256"},
		} {
			out = append(out, measureRuns(b, c.name, n, benchRuns, nil, func() error {
				cmd := exec.CommandContext(ctx, pssh, "-p", conc, "-h", hostsFile, "-l", fleet.User, "-t", "60", "-x", c.opts, FloorCommand)
				if msg, err := cmd.CombinedOutput(); err != nil {
					return fmt.Errorf("pssh: %w\n%s", err, tail(string(msg), 2000))
				}
				return nil
			}))
		}
	}

	ansible, err := exec.LookPath("ansible")
	if err != nil {
		return append(out, Result{Case: "ansible shell -f " + conc, Hosts: n, Skipped: "not installed"}, Result{Case: "ansible setup -f " + conc, Hosts: n, Skipped: "not installed"})
	}
	var inv strings.Builder
	inv.WriteString("[fleet]\n")
	for i, h := range fleet.Hosts {
		fmt.Fprintf(&inv, "h%d ansible_host=%s ansible_port=%d\n", i, h.IP, h.Port)
	}
	invFile := filepath.Join(dir, "inventory.ini")
	mustDo(b, os.WriteFile(invFile, []byte(inv.String()), 0o600))
	// Pipelining and ControlPersist, as the reference figures: the
	// persistent connections start in the warm-up run.
	env := append(os.Environ(),
		"ANSIBLE_PIPELINING=True", "ANSIBLE_HOST_KEY_CHECKING=True", "ANSIBLE_PYTHON_INTERPRETER=auto_silent",
		"ANSIBLE_SSH_ARGS=-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile="+khFile+" -o BatchMode=yes",
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, "cp"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"),
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=False")
	module := func(args ...string) func() error {
		return func() error {
			cmd := exec.CommandContext(ctx, ansible, append([]string{"fleet", "-i", invFile, "-f", conc, "-u", fleet.User,
				"--private-key", fleet.KeyFile}, args...)...)
			cmd.Env = env
			if msg, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("ansible: %w\n%s", err, tail(string(msg), 2000))
			}
			return nil
		}
	}
	shell := module("-m", "shell", "-a", FloorCommand)
	// setup is what an operator runs to collect the same facts (CPU,
	// memory, mounts, uptime).
	setup := module("-m", "setup", "-a", "gather_subset=hardware")
	mustDo(b, shell()) // warm-up: Python interpreter discovery, control masters
	out = append(out, measureRuns(b, "ansible shell -f "+conc, n, benchRuns, nil, shell))
	return append(out, measureRuns(b, "ansible setup -f "+conc, n, benchRuns, nil, setup))
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
	var ratios []Ratio
	warm := false
	for _, n := range sizes(b, "FLEETBENCH_LARGE_SIZES", []int{500, 1000, 2000, 10000}) {
		fleet, err := StartChildFleet(ctx, exe, n, "bench", signer.PublicKey())
		mustDo(b, err)
		env := newCSCSEnv(b, fleet.Addrs, "bench", keyFile, string(fleet.KnownHosts), agentDir)
		if !warm {
			warmAgent(b, ctx, fleet, keyFile, agentDir)
			warm = true
		}
		r := measureRuns(b, "cscs run cached (in-process fleet in a child)", n, runs, nil, func() error { return env.run(ctx) })
		results = append(results, r)
		mustDo(b, fleet.Close())
		// The hosts, agents included, run in the child: the core's CPU and
		// RSS are the round's own.
		m := r.Median()
		ratios = append(ratios,
			Ratio{Name: fmt.Sprintf("N=%d core CPU ms/host (the hosts' in the child)", n), Value: perHostMS(m.CPU, n), Target: 1.5},
			Ratio{Name: fmt.Sprintf("N=%d core peak RSS MB", n), Value: float64(m.PeakRSS) / (1 << 20), Target: 250})
	}
	fmt.Println()
	mustDo(b, WriteTable(os.Stdout, results))
	mustDo(b, WriteRatios(os.Stdout, ratios))
}

// warmChildFleet starts a child fleet of hosts hosts (closed when b
// ends), puts the agent in place on it, and returns it with the
// environment of cscs runs against it and the agents' directory.
func warmChildFleet(b *testing.B, ctx context.Context, hosts int) (*ChildFleet, cscsEnv, string) {
	b.Helper()
	agentDir := testagent.Dir(b)
	exe, err := os.Executable()
	mustDo(b, err)
	signer, keyFile := newClientKey(b)
	fleet, err := StartChildFleet(ctx, exe, hosts, "bench", signer.PublicKey())
	mustDo(b, err)
	b.Cleanup(func() { fleet.Close() })
	env := newCSCSEnv(b, fleet.Addrs, "bench", keyFile, string(fleet.KnownHosts), agentDir)
	warmAgent(b, ctx, fleet, keyFile, agentDir)
	return fleet, env, agentDir
}

// warmAgent puts the agent in place on a child fleet: every host shares
// the child's temp directory, so one host's round caches it for all.
func warmAgent(b *testing.B, ctx context.Context, fleet *ChildFleet, keyFile, agentDir string) {
	b.Helper()
	one := newCSCSEnv(b, fleet.Addrs[:1], "bench", keyFile, string(fleet.KnownHosts), agentDir)
	mustDo(b, one.run(ctx))
}

// BenchmarkFleetCachedRound times cached `cscs run` rounds against 200 real
// sshd hosts, one round per iteration after a warm-up: the case to profile
// (go test -bench FleetCachedRound -benchtime 3x -cpuprofile cpu.out).
func BenchmarkFleetCachedRound(b *testing.B) {
	agentDir := testagent.Dir(b)
	ctx := context.Background()
	const n = 200
	fleet, addrs, _ := startFleet(b, n)
	sink := startSink(b)
	env := newCSCSEnvWith(b, addrs, fleet.User, agentDir, cscsOptions{KeyFile: fleet.KeyFile, KnownHosts: fleet.KnownHosts(), MailPort: sink.Port})
	mustDo(b, env.run(ctx))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustDo(b, env.run(ctx))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "hosts/s")
}
