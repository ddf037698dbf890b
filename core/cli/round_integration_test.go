package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// TestIntegrationRound runs two real rounds against OpenSSH sshd hosts with
// every kind of failure mixed in, and checks what reached the database.
func TestIntegrationRound(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{Hosts: 4})
	pwHost, keyHost, badPwHost, changedKeyHost := fleet.Hosts[0], fleet.Hosts[1], fleet.Hosts[2], fleet.Hosts[3]
	deadIP, deadPort := splitAddr(t, sshdtest.ClosedAddr(t))
	silentIP, silentPort := splitAddr(t, sshdtest.StartNoSSH(t))

	r := newRoundEnv(t, testagent.Dir(t))
	must(t, os.WriteFile(filepath.Join(r.dir, "pw"), []byte(fleet.Password+"\n"), 0o600))

	// known_hosts: the real keys, except a different key for changedKeyHost.
	changed := changedKeyHost
	changed.HostKey = sshdtest.NewSigner(t).PublicKey()
	known := sshdtest.KnownHostsLine(pwHost) + "\n" + sshdtest.KnownHostsLine(keyHost) + "\n" +
		sshdtest.KnownHostsLine(badPwHost) + "\n" + sshdtest.KnownHostsLine(changed) + "\n"
	r.writeKnownHosts(t, []byte(known))

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
	r.writeConfig(t, cfg)

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

	db := openDB(t, "sqlite3", r.db)
	if n := queryInt(t, db, `SELECT count(*) FROM collections`); n != 12 {
		t.Errorf("collections: %d rows, want 12 (6 hosts x 2 rounds)", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE status = 'ok'`); n != 4 {
		t.Errorf("ok collections: %d, want 4", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE status <> 'ok' AND (error IS NULL OR error = '')`); n != 0 {
		t.Errorf("%d failed collections without error text", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM latest_stats WHERE cpu_percent BETWEEN 0 AND 100 AND memory_percent > 0 AND uptime_seconds > 0 AND os = 'linux'`); n != 2 {
		t.Errorf("latest_stats: %d sane rows, want 2", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM collections c JOIN hosts h ON h.id = c.host_id WHERE h.ip = ? AND c.status = 'timeout'`, silentIP); n != 2 {
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

// TestIntegrationAuthlogEvents makes a failed SSH login against a real
// OpenSSH sshd and checks that a round stores it as an auth event, once.
//
// The harness runs sshd with -e, so its auth messages go to the harness's
// log file, not to journald or /var/log/auth.log (this container has
// neither). The round therefore points the authlog module at that file
// with --authlog-file, the flag operators use for a non-standard log.
func TestIntegrationAuthlogEvents(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{Hosts: 1})
	host := fleet.Hosts[0]
	logs, err := filepath.Glob(filepath.Join(fleet.Dir, "sshd_*.log"))
	if err != nil || len(logs) != 1 {
		t.Fatalf("sshd log files %v (%v), want one", logs, err)
	}
	sshdLog := logs[0]
	// The agent runs as the fleet's user and must read the log.
	must(t, os.Chmod(sshdLog, 0o644))

	_, err = ssh.Dial("tcp", host.Addr(), &ssh.ClientConfig{
		User: fleet.User, Auth: []ssh.AuthMethod{ssh.Password("definitely-wrong")},
		HostKeyCallback: ssh.FixedHostKey(host.HostKey), Timeout: 5 * time.Second,
	})
	if err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	waitForLog(t, sshdLog, "Failed password for "+fleet.User)

	r := newRoundEnv(t, testagent.Dir(t))
	must(t, os.WriteFile(filepath.Join(r.dir, "pw"), []byte(fleet.Password+"\n"), 0o600))
	r.writeKnownHosts(t, []byte(sshdtest.KnownHostsLine(host)+"\n"))
	r.writeConfig(t, fmt.Sprintf("<clients>\n  <client ip=%q port=\"%d\" username=%q password=\"file:pw\"/>\n</clients>\n",
		host.IP, host.Port, fleet.User))

	var first int
	for round := 1; round <= 2; round++ {
		_, out, stderr := runCLI(t, r.args("--authlog-file", sshdLog))
		if len(out.Hosts) != 1 || out.Hosts[0].Status != "ok" {
			t.Fatalf("round %d: hosts %+v\n%s", round, out.Hosts, stderr)
		}
		db := openDB(t, "sqlite3", r.db)
		n := queryInt(t, db, `SELECT count(*) FROM events WHERE channel = 'auth' AND event_id = 2 AND provider = 'sshd' AND message LIKE ?`,
			"%Failed password for "+fleet.User+" from%")
		// The collector's own logins are left out (TestIntegrationAuthlogOwnSession).
		if accepted := queryInt(t, db, `SELECT count(*) FROM events WHERE channel = 'auth' AND event_id = 1`); accepted != 0 {
			t.Errorf("round %d: %d accepted-login events, want none: the collector's own login was stored", round, accepted)
		}
		switch round {
		case 1:
			if n < 1 {
				t.Fatalf("round 1: no failed-login event for %s in the events table\n%s", fleet.User, stderr)
			}
			first = n
		case 2:
			if n != first {
				t.Errorf("round 2: %d failed-login events, want the %d of round 1: events were stored again", n, first)
			}
		}
	}

	st := openDB(t, "sqlite3", filepath.Join(r.dataDir, "state.db"))
	var cursor string
	must(t, st.QueryRow(`SELECT cursor FROM event_cursors WHERE host_ip = ? AND host_port = ? AND channel = 'authlog'`,
		host.IP, host.Port).Scan(&cursor))
	if !strings.Contains(cursor, sshdLog) || !strings.Contains(cursor, `"offset"`) {
		t.Errorf("stored cursor %q does not name the log file and an offset", cursor)
	}
}

// waitForLog waits until the file contains text.
func waitForLog(t *testing.T, path, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(path); strings.Contains(string(data), text) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never logged %q", path, text)
}
