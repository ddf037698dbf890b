package cli

import (
	"database/sql"
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

	dir := t.TempDir()
	r := roundEnv{dir: dir, config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: filepath.Join(dir, "cscs.db"), agentDir: testagent.Dir(t)}
	must(t, os.WriteFile(filepath.Join(dir, "pw"), []byte(fleet.Password+"\n"), 0o600))
	must(t, os.MkdirAll(r.dataDir, 0o700))
	must(t, os.WriteFile(filepath.Join(r.dataDir, "known_hosts"), []byte(sshdtest.KnownHostsLine(host)+"\n"), 0o600))
	must(t, os.WriteFile(r.config, []byte(fmt.Sprintf("<clients>\n  <client ip=%q port=\"%d\" username=%q password=\"file:pw\"/>\n</clients>\n",
		host.IP, host.Port, fleet.User)), 0o600))

	failed := func(db *sql.DB) int {
		var n int
		q := `SELECT count(*) FROM events WHERE channel = 'auth' AND event_id = 2 AND provider = 'sshd' AND message LIKE ?`
		must(t, db.QueryRow(q, "%Failed password for "+fleet.User+" from%").Scan(&n))
		return n
	}
	var first int
	for round := 1; round <= 2; round++ {
		_, out, stderr := runCLI(t, r.args("--authlog-file", sshdLog))
		if len(out.Hosts) != 1 || out.Hosts[0].Status != "ok" {
			t.Fatalf("round %d: hosts %+v\n%s", round, out.Hosts, stderr)
		}
		db, err := sql.Open("sqlite3", r.db)
		must(t, err)
		n := failed(db)
		var accepted int
		must(t, db.QueryRow(`SELECT count(*) FROM events WHERE channel = 'auth' AND event_id = 1`).Scan(&accepted))
		db.Close()
		switch round {
		case 1:
			if n < 1 {
				t.Fatalf("round 1: no failed-login event for %s in the events table\n%s", fleet.User, stderr)
			}
			if accepted < 1 {
				t.Errorf("round 1: no accepted-login event (the core's own login)")
			}
			first = n
		case 2:
			if n != first {
				t.Errorf("round 2: %d failed-login events, want the %d of round 1: events were stored again", n, first)
			}
		}
	}

	st, err := sql.Open("sqlite3", filepath.Join(r.dataDir, "state.db"))
	must(t, err)
	defer st.Close()
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
