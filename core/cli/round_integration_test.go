package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/round"
)

// roundEnv is a prepared directory with config.xml, known_hosts and flags.
type roundEnv struct {
	dir, config, dataDir, db, agentDir string
}

func (r roundEnv) args(extra ...string) []string {
	return append([]string{"run", "--config", r.config, "--data-dir", r.dataDir, "--db", r.db,
		"--agent-dir", r.agentDir, "--output", "json", "--cpu-sample", "200ms",
		"--connect-timeout", "2s", "--handshake-timeout", "2s", "--host-timeout", "30s"}, extra...)
}

func runCLI(t *testing.T, args []string) (int, round.Report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, "test", strings.NewReader(""), &stdout, &stderr)
	var out round.Report
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("exit %d, stdout is not JSON: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	return code, out, stderr.String()
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// TestIntegrationRound runs two real rounds against OpenSSH sshd hosts with
// every kind of failure mixed in, and checks what reached the database.
func TestIntegrationRound(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{Hosts: 4})
	pwHost, keyHost, badPwHost, changedKeyHost := fleet.Hosts[0], fleet.Hosts[1], fleet.Hosts[2], fleet.Hosts[3]
	deadIP, deadPort := splitAddr(t, sshdtest.ClosedAddr(t))
	silentIP, silentPort := splitAddr(t, sshdtest.StartNoSSH(t))

	dir := t.TempDir()
	r := roundEnv{dir: dir, config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: filepath.Join(dir, "cscs.db"), agentDir: testagent.Dir(t)}
	must(t, os.WriteFile(filepath.Join(dir, "pw"), []byte(fleet.Password+"\n"), 0o600))

	// known_hosts: the real keys, except a different key for changedKeyHost.
	other, err := ssh.NewSignerFromKey(mustEd25519(t))
	must(t, err)
	changed := changedKeyHost
	changed.HostKey = other.PublicKey()
	known := sshdtest.KnownHostsLine(pwHost) + "\n" + sshdtest.KnownHostsLine(keyHost) + "\n" +
		sshdtest.KnownHostsLine(badPwHost) + "\n" + sshdtest.KnownHostsLine(changed) + "\n"
	must(t, os.MkdirAll(r.dataDir, 0o700))
	must(t, os.WriteFile(filepath.Join(r.dataDir, "known_hosts"), []byte(known), 0o600))

	client := func(ip string, port int, auth string) string {
		return fmt.Sprintf("  <client ip=%q port=\"%d\" username=%q %s mail=\"ops@example.com\">\n"+
			"    <alert type=\"memory\" limit=\"90%%\"/>\n  </client>\n", ip, port, fleet.User, auth)
	}
	cfg := "<clients>\n" +
		client(pwHost.IP, pwHost.Port, `password="file:pw"`) +
		client(keyHost.IP, keyHost.Port, fmt.Sprintf("key=%q", fleet.KeyFile)) +
		client(badPwHost.IP, badPwHost.Port, `password="not-the-password"`) +
		client(changedKeyHost.IP, changedKeyHost.Port, `password="file:pw"`) +
		client(deadIP, deadPort, `password="file:pw"`) +
		client(silentIP, silentPort, `password="file:pw"`) +
		"</clients>\n"
	must(t, os.WriteFile(r.config, []byte(cfg), 0o600))

	// Remove a cached agent left by an earlier run so the first round uploads.
	must(t, os.RemoveAll(fmt.Sprintf("/tmp/cscs-%d", fleet.UID)))

	want := []string{"ok", "ok", "auth_failed", "host_key_mismatch", "unreachable", "timeout"}
	for round := 1; round <= 2; round++ {
		code, out, stderr := runCLI(t, r.args())
		if code != ExitSomeFailed {
			t.Fatalf("round %d: exit %d, want %d (some hosts failed)\n%s", round, code, ExitSomeFailed, stderr)
		}
		if len(out.Hosts) != len(want) {
			t.Fatalf("round %d: %d hosts in output, want %d", round, len(out.Hosts), len(want))
		}
		uploads := 0
		for i, h := range out.Hosts {
			if string(h.Status) != want[i] {
				t.Errorf("round %d host %s:%d: status %s (%s), want %s", round, h.IP, h.Port, h.Status, h.Error, want[i])
			}
			if h.AgentUploaded {
				uploads++
			}
			if h.Status == "ok" {
				if h.OS != "linux" || h.Hostname == "" || h.AgentVersion == "" {
					t.Errorf("round %d host %s: os %q hostname %q agent %q", round, h.IP, h.OS, h.Hostname, h.AgentVersion)
				}
				if v, ok := h.Metrics["cpu.percent"]; !ok || v < 0 || v > 100 {
					t.Errorf("round %d host %s: cpu.percent %v %v", round, h.IP, v, ok)
				}
				if v := h.Metrics["memory.total_bytes"]; v <= 0 {
					t.Errorf("round %d host %s: memory.total_bytes %v", round, h.IP, v)
				}
			}
		}
		if round == 1 && uploads == 0 {
			t.Errorf("round 1 uploaded no agent although the remote cache was empty")
		}
		if round == 2 && uploads != 0 {
			t.Errorf("round 2 uploaded the agent %d times; the cached agent should be reused", uploads)
		}
		// The silent host must fail within the handshake deadline (2s), not the host deadline.
		if d := out.Hosts[5].DurationMS; d > 3500 {
			t.Errorf("round %d: silent host took %.0f ms, want the 2s handshake deadline", round, d)
		}
		for _, i := range []int{3} {
			if !strings.Contains(out.Hosts[i].Error, "known_hosts") {
				t.Errorf("host key mismatch error does not name known_hosts: %q", out.Hosts[i].Error)
			}
		}
		if strings.Contains(stderr, fleet.Password) {
			t.Fatalf("the password leaked to stderr")
		}
	}

	db, err := sql.Open("sqlite3", r.db)
	must(t, err)
	defer db.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM collections`); n != 12 {
		t.Errorf("collections: %d rows, want 12 (6 hosts x 2 rounds)", n)
	}
	if n := count(`SELECT count(*) FROM collections WHERE status = 'ok'`); n != 4 {
		t.Errorf("ok collections: %d, want 4", n)
	}
	if n := count(`SELECT count(*) FROM collections WHERE status <> 'ok' AND (error IS NULL OR error = '')`); n != 0 {
		t.Errorf("%d failed collections without error text", n)
	}
	if n := count(`SELECT count(*) FROM latest_stats WHERE cpu_percent BETWEEN 0 AND 100 AND memory_percent > 0 AND uptime_seconds > 0 AND os = 'linux'`); n != 2 {
		t.Errorf("latest_stats: %d sane rows, want 2", n)
	}
	if n := count(`SELECT count(*) FROM collections c JOIN hosts h ON h.id = c.host_id WHERE h.ip = ? AND c.status = 'timeout'`, silentIP); n != 2 {
		t.Errorf("silent host: %d timeout rows, want 2", n)
	}
	var pwLeaks int
	for _, table := range []string{"collections", "hosts"} {
		rows, err := db.Query(`SELECT * FROM ` + table)
		must(t, err)
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			must(t, rows.Scan(ptrs...))
			for _, v := range vals {
				if s, ok := v.(string); ok && strings.Contains(s, fleet.Password) {
					pwLeaks++
				}
			}
		}
		rows.Close()
	}
	if pwLeaks > 0 {
		t.Errorf("the password appears %d times in the database", pwLeaks)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustEd25519(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	return k
}
