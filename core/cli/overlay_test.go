package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cscs-dev/cscs/core/internal/syncbuf"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestRoundWithOverlay runs rounds under an overlay against the
// in-process fleet: a group restricts one host's sources, the round fans
// out to two SQLite files and PostgreSQL, an expression rule fires only on
// its second round and its mail is routed to a notifier instance (SMTP to
// a real server) whose password comes from env(); the secret never shows.
func TestRoundWithOverlay(t *testing.T) {
	skipShort(t, "runs several rounds with plugins")
	dsn := pgtest.SchemaDSN(t)
	r, fleet := fleetRound(t, "")
	hosts := fleet.Hosts()
	sink := startSMTPSink(t, "cscs", "ov-smtp-secret")
	t.Setenv("CSCS_TEST_OV_SMTP", "ov-smtp-secret")
	t.Setenv("CSCS_TEST_OV_DSN", dsn)
	a, b := filepath.Join(r.dir, "a.db"), filepath.Join(r.dir, "b.db")
	overlay := filepath.Join(r.dir, "overlay.hcl")
	must(t, os.WriteFile(overlay, []byte(fmt.Sprintf(`
round {
  cpu_sample  = "50ms"
  max_uploads = 3
}

storage "sqlite" "a" {
  path = %q
}
storage "sqlite" "b" {
  path = %q
}
storage "postgres" "pg" {
  dsn = env("CSCS_TEST_OV_DSN")
}

notifier "smtp" "ops" {
  host     = "127.0.0.1"
  port     = %d
  security = "none"
  username = "cscs"
  password = env("CSCS_TEST_OV_SMTP")
  from     = "CSCS <cscs@example.com>"
}

group "lean" {
  ips     = [%q]
  sources = ["memory", "uptime"]
}

alert "memory_seen" {
  condition = memory.used_percent >= 0 && host.os == "linux"
  for       = 2
  severity  = "critical"
}

route {
  severity  = ["critical"]
  notifiers = ["ops"]
}
`, a, b, sink.port, hosts[0].IP)), 0o600))

	for round := 1; round <= 2; round++ {
		code, out, stderr := runCLI(t, r.args("--overlay", overlay, "--email-config", filepath.Join(r.dir, "none.json")))
		if code != ExitOK || out.Counts["ok"] != 2 {
			t.Fatalf("round %d: exit %d, counts %v\n%s", round, code, out.Counts, stderr)
		}
		for _, secret := range []string{"ov-smtp-secret", dsn} {
			if strings.Contains(stderr, secret) {
				t.Fatalf("round %d: a secret leaked:\n%s", round, stderr)
			}
		}
		mails := alertMails(sink.received())
		switch {
		case round == 1 && len(mails) != 0:
			t.Fatalf("round 1: %d alert mails; a rule with for = 2 must wait a round", len(mails))
		case round == 2 && len(mails) != 2:
			t.Fatalf("round 2: %d alert mails through the routed notifier, want one per host\n%s", len(mails), stderr)
		}
	}
	for _, m := range alertMails(sink.received()) {
		if !strings.Contains(m.data, "memory_seen") || !strings.Contains(m.data, "Severity: critical") {
			t.Errorf("alert mail lacks the rule or its severity:\n%s", m.data)
		}
	}

	// Every storage got both rounds; the lean host measured only its
	// group's sources.
	for _, path := range []string{a, b} {
		db := openDB(t, "sqlite3", path)
		if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE status = 'ok'`); n != 4 {
			t.Errorf("%s: %d ok collections, want 4", path, n)
		}
		const cpuSamples = `SELECT count(*) FROM samples s JOIN hosts h ON h.id = s.host_id WHERE h.ip = ? AND s.metric LIKE 'cpu.%'`
		cpuLean, cpuOther := queryInt(t, db, cpuSamples, hosts[0].IP), queryInt(t, db, cpuSamples, hosts[1].IP)
		if cpuLean != 0 || cpuOther == 0 {
			t.Errorf("%s: cpu samples: lean host %d (want 0), other host %d (want some)", path, cpuLean, cpuOther)
		}
		// The consumer sees which channel each notification took.
		routed := queryInt(t, db, `SELECT count(*) FROM notifications WHERE kind = 'alert' AND channel = 'ops'`)
		otherChannels := queryInt(t, db, `SELECT count(*) FROM notifications WHERE kind = 'alert' AND channel <> 'ops'`)
		if routed != 2 || otherChannels != 0 {
			t.Errorf("%s: alert notifications on channel ops %d (want 2, one per host), on others %d (want 0)", path, routed, otherChannels)
		}
	}
	if n := queryInt(t, openDB(t, "pgx", dsn), `SELECT count(*) FROM collections WHERE status = 'ok'`); n != 4 {
		t.Errorf("PostgreSQL: %d ok collections, want 4", n)
	}
	// The lean host's group leaves authlog out: no event-log mail for it.
	st := openDB(t, "sqlite3", state.Path(r.dataDir))
	const eventMails = `SELECT count(*) FROM notifications WHERE kind = 'eventlog' AND host_ip = ?`
	leanEvents, otherEvents := queryInt(t, st, eventMails, hosts[0].IP), queryInt(t, st, eventMails, hosts[1].IP)
	if leanEvents != 0 || otherEvents != 2 {
		t.Errorf("event-log notifications: lean host %d (want 0), other host %d (want 2, one per round)", leanEvents, otherEvents)
	}
	if _, err := os.Stat(r.db); err == nil {
		t.Errorf("--db %s was written although the overlay's storage blocks replace it", r.db)
	}

	// config show: the overlay's setting, a flag beating it, secrets masked.
	code, show, stderr := runMain(context.Background(), "test", "config", "show", "--config", r.config, "--data-dir", r.dataDir,
		"--overlay", overlay, "--concurrency", "7")
	if code != ExitOK {
		t.Fatalf("config show: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{`cpu_sample        = "50ms"`, "overlay.hcl:3:3", "concurrency       = 7        # --concurrency",
		"max_handshakes    = 128      # default", "max_uploads       = 3        # " + overlay + ":4:3",
		`password = "(sensitive)"`, `dsn = "(sensitive)"`, `groups   = ["lean"]`, `sources  = ["memory", "uptime"]`} {
		if !strings.Contains(show, want) {
			t.Errorf("config show lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "ov-smtp-secret") || strings.Contains(show, dsn) {
		t.Errorf("config show printed a secret:\n%s", show)
	}
}

// TestValidateOverlayDiagnostics: a typo in a plugin block and an unknown
// metric in a condition are reported with file, line and a suggestion,
// and validate exits 2.
func TestValidateOverlayDiagnostics(t *testing.T) {
	dir := t.TempDir()
	overlay := filepath.Join(dir, "bad.hcl")
	must(t, os.WriteFile(overlay, []byte(`storage "sqlite" "local" {
  pth = "cscs.db"
}

alert "mem" {
  condition = memory.used_prcent > 90
}
`), 0o600))
	cfg := filepath.Join(dir, "config.xml")
	must(t, os.WriteFile(cfg, []byte(`<clients><client ip="127.0.0.1" username="u" password="p"/></clients>`), 0o600))
	code, _, stderr := runMain(context.Background(), "test", "validate", "--config", cfg, "--data-dir", filepath.Join(dir, "data"),
		"--email-config", filepath.Join(dir, "none.json"), "--overlay", overlay)
	if code != ExitBadConfig {
		t.Fatalf("exit %d, want %d\n%s", code, ExitBadConfig, stderr)
	}
	for _, want := range []string{"bad.hcl line 2", `Did you mean "path"?`, "bad.hcl line 6", "Did you mean memory.used_percent?"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, stderr)
		}
	}
}

// TestValidateReportsEveryConfigProblem: a config.xml with a limit that
// is not a limit, a limit of the wrong unit and an unknown alert type
// gets all three reported in one run, each at its own line and column
// and in file order, and validate exits 2.
func TestValidateReportsEveryConfigProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.xml")
	must(t, os.WriteFile(cfg, []byte(`<clients>
  <client ip="127.0.0.1" username="u" password="p" mail="ops@example.com">
    <alert type="cpu" limit="9O%"/>
    <alert type="memory" limit="5s"/>
    <alert type="mem" limit="90%"/>
  </client>
</clients>
`), 0o600))
	code, _, stderr := runMain(context.Background(), "test", "validate", "--config", cfg, "--data-dir", filepath.Join(dir, "data"),
		"--email-config", filepath.Join(dir, "none.json"))
	if code != ExitBadConfig {
		t.Fatalf("exit %d, want %d\n%s", code, ExitBadConfig, stderr)
	}
	last := -1
	for _, want := range []string{
		cfg + `:3:23: error: client 127.0.0.1 alert cpu attribute limit: "9O%" is not a limit`,
		cfg + `:4:5: error: client 127.0.0.1 alert memory attribute limit: "5s" is a duration`,
		cfg + `:5:5: error: client 127.0.0.1 alert attribute type: unknown alert type "mem"; fix: did you mean memory?`,
	} {
		at := strings.Index(stderr, want)
		if at <= last {
			t.Errorf("diagnostics lack %q after the previous one:\n%s", want, stderr)
		}
		last = max(at, last)
	}
}

// TestRunEveryInterval: with an interval, run repeats rounds until it is
// stopped, and stores each.
func TestRunEveryInterval(t *testing.T) {
	skipShort(t, "runs several rounds")
	r, _ := fleetRound(t, "")
	overlay := filepath.Join(r.dir, "every.hcl")
	must(t, os.WriteFile(overlay, []byte("round {\n  interval = \"1s\"\n  cpu_sample = \"10ms\"\n}\n"), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncbuf.Buffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, append(r.args("--overlay", overlay), "--output", "text"), "test", strings.NewReader(""), &stdout, &stderr)
	}()
	// Wait for the second stored round, then stop.
	for strings.Count(stdout.String(), "stored round") < 2 {
		select {
		case code := <-done:
			t.Fatalf("run ended by itself with exit %d\n%s", code, stderr.String())
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after stopping\n%s", code, stderr.String())
	}
	if rounds := queryInt(t, openDB(t, "sqlite3", r.db), `SELECT count(DISTINCT round_id) FROM collections`); rounds < 2 {
		t.Errorf("%d rounds stored, want at least 2", rounds)
	}
}

// TestDeclaredPluginBlock: a plugin block declares an external storage by
// path and checksum and a storage block uses it; with a wrong checksum
// the plugin is not run, the overlay is refused before any host is
// collected, and the message says to fix the plugin block.
func TestDeclaredPluginBlock(t *testing.T) {
	skipShort(t, "builds a plugin")
	bin := sdktest.Build(t, "github.com/cscs-dev/cscs/examples/storage-jsonl")
	data, err := os.ReadFile(bin)
	must(t, err)
	sum := sha256.Sum256(data)
	r, _ := fleetRound(t, "")
	out := filepath.Join(r.dir, "rounds.jsonl")
	write := func(sha string) string {
		path := filepath.Join(r.dir, "declared.hcl")
		must(t, os.WriteFile(path, []byte(fmt.Sprintf(`
plugin "jsonl" {
  kind   = "storage"
  path   = %q
  sha256 = %q
}

storage "jsonl" "archive" {
  path = %q
}
`, bin, sha, out)), 0o600))
		return path
	}

	code, res, stderr := runCLI(t, r.args("--overlay", write(hex.EncodeToString(sum[:]))))
	if code != ExitOK || res.Counts["ok"] != 2 {
		t.Fatalf("exit %d, counts %v\n%s", code, res.Counts, stderr)
	}
	lines, err := os.ReadFile(out)
	must(t, err)
	if n := strings.Count(string(lines), "\n"); n != 2 {
		t.Errorf("%s has %d lines, want one per host:\n%s", out, n, lines)
	}

	// A wrong checksum leaves the storage out: the round goes on, exits 1
	// and spools the storage's copy; validate refuses the block.
	wrong := write(strings.Repeat("0", 64))
	code, res, stderr = runCLI(t, r.args("--overlay", wrong))
	if code != ExitSomeFailed || res.Counts["ok"] != 2 {
		t.Errorf("exit %d, counts %v with a wrong checksum; want 1 with both hosts ok", code, res.Counts)
	}
	for _, want := range []string{"declared.hcl line 8", "sha256 its plugin block pins", "(sha256sum", "left out of this round", "spooled"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	lines2, err := os.ReadFile(out)
	must(t, err)
	if string(lines2) != string(lines) {
		t.Error("the plugin ran although its checksum did not match")
	}
	validate := []string{"validate", "--config", r.config, "--data-dir", r.dataDir, "--overlay", wrong}
	if code, _, stderr := runMain(context.Background(), "test", validate...); code != ExitBadConfig || !strings.Contains(stderr, "sha256 its plugin block pins") {
		t.Errorf("validate with a wrong checksum: exit %d, want %d:\n%s", code, ExitBadConfig, stderr)
	}

	// The block fixed, the spooled round is stored too.
	if code, _, stderr := runCLI(t, r.args("--overlay", write(hex.EncodeToString(sum[:])))); code != ExitOK {
		t.Fatalf("exit %d after fixing the checksum\n%s", code, stderr)
	}
	lines3, err := os.ReadFile(out)
	must(t, err)
	if n := strings.Count(string(lines3), "\n"); n != 6 {
		t.Errorf("%s has %d lines after the fix, want 6 (three rounds of two hosts):\n%s", out, n, lines3)
	}
}

// TestServe runs `cscs serve` against the in-process fleet: it listens,
// becomes ready after its first round, exposes both hosts in /metrics,
// refuses a SIGHUP reload of a broken config.xml while it keeps
// collecting with the running configuration, and exits 0 when stopped.
func TestServe(t *testing.T) {
	skipShort(t, "runs cscs serve against an in-process SSH fleet")
	r, _ := fleetRound(t, "")
	args := append([]string{"serve"}, r.args("--interval", "300ms", "--listen", "127.0.0.1:0", "--log-format", "json")[1:]...)
	var stderr syncbuf.Buffer
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, args, "test", strings.NewReader(""), io.Discard, &stderr) }()
	ended := false
	t.Cleanup(func() {
		if !ended {
			stop()
			<-exited
		}
	})

	addr := waitFor(t, func() string {
		if m := regexp.MustCompile(`"address":"([0-9.:]+)"`).FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		return ""
	}, &stderr)
	body := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, func() string {
		if code, _ := body("/readyz"); code == http.StatusOK {
			return "ready"
		}
		return ""
	}, &stderr)
	_, metrics := body("/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(metrics))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	if up := families["cscs_host_up"]; up == nil || len(up.Metric) != 2 {
		t.Fatalf("cscs_host_up: %v; want both hosts", up)
	}

	// A broken config.xml: the reload is refused, the rounds go on.
	must(t, os.WriteFile(r.config, []byte("<clients><client ip=\n"), 0o600))
	rounds := strings.Count(stderr.String(), `"msg":"round"`)
	self, err := os.FindProcess(os.Getpid())
	must(t, err)
	must(t, self.Signal(syscall.SIGHUP))
	waitFor(t, func() string {
		s := stderr.String()
		if strings.Contains(s, "reload refused") && strings.Count(s, `"msg":"round"`) >= rounds+2 {
			return "ok"
		}
		return ""
	}, &stderr)
	if !strings.Contains(stderr.String(), "config.xml:1:") {
		t.Errorf("the refused reload's diagnostics do not name config.xml's line:\n%s", stderr.String())
	}
	stop()
	ended = true
	if code := <-exited; code != ExitOK {
		t.Errorf("exit %d after stop, want 0\n%s", code, stderr.String())
	}
}

// waitFor polls f until it returns something, for up to a minute.
func waitFor(t *testing.T, f func() string, log *syncbuf.Buffer) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if v := f(); v != "" {
			return v
		}
	}
	t.Fatalf("timed out; stderr:\n%s", log.String())
	return ""
}
