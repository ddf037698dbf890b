package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// TestIntegrationDiskAndNet runs two rounds against a real OpenSSH sshd
// with the disk and net sources: the database holds one disk sample set
// for the root file system, labelled with its mount, whose use agrees
// with statfs; the first round has no network rate (no earlier counters)
// and the second a positive one for lo, which carried the round's own SSH
// traffic; a <alert type="disk"> rule and an overlay rule on labels.mount
// fire, and their mail names the mount.
func TestIntegrationDiskAndNet(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{Hosts: 1})
	host := fleet.Hosts[0]
	r := newRoundEnv(t, testagent.Dir(t))
	must(t, os.WriteFile(filepath.Join(r.dir, "pw"), []byte(fleet.Password+"\n"), 0o600))
	r.writeKnownHosts(t, []byte(sshdtest.KnownHostsLine(host)+"\n"))
	r.writeConfig(t, fmt.Sprintf("<clients>\n  <client ip=%q port=\"%d\" username=%q password=\"file:pw\" mail=\"ops@example.com\">\n"+
		"    <alert type=\"disk\" limit=\"0.01%%\"/>\n  </client>\n</clients>\n", host.IP, host.Port, fleet.User))
	// Whatever file system / is on here (an overlay in a container is left
	// out by default), report it; and the loopback interface, which is
	// left out by default.
	overlay := filepath.Join(r.dir, "overlay.hcl")
	must(t, os.WriteFile(overlay, []byte(`group "local" {
  ips = ["127.0.0.0/8"]
  module "disk" {
    mounts = ["/"]
  }
  module "net" {
    interfaces = ["lo"]
  }
  alert "root_in_use" {
    condition = labels.mount == "/" && disk.used_percent > 0.001
  }
}
`), 0o600))
	sink := startSMTPSink(t, "cscs", "smtp-secret")
	email := sinkEmailConfig(t, sink.port)
	db := openDB(t, "sqlite3", r.db)

	for round := 1; round <= 2; round++ {
		code, out, stderr := runCLI(t, r.args("--overlay", overlay, "--email-config", email, "--mail-retry-after", "1ms"))
		if code != ExitOK || len(out.Hosts) != 1 || out.Hosts[0].Status != "ok" {
			t.Fatalf("round %d: exit %d, hosts %+v\n%s", round, code, out.Hosts, stderr)
		}
		rates := queryInt(t, db, `SELECT COUNT(*) FROM samples s JOIN collections c ON c.id = s.collection_id
		                          WHERE s.metric LIKE 'net.%' AND s.labels ->> 'interface' = 'lo' AND c.round_id = ?`, out.RoundID)
		if want := map[int]int{1: 0, 2: 8}[round]; rates != want {
			t.Errorf("round %d: %d net rates of lo stored, want %d (none on the first round, then 8)", round, rates, want)
		}
	}

	var mount, fstype string
	var used float64
	must(t, db.QueryRow(`SELECT s.labels ->> 'mount', s.labels ->> 'fstype', s.value FROM samples s
	                     JOIN collections c ON c.id = s.collection_id
	                     WHERE s.metric = 'disk.used_percent' ORDER BY c.started_at DESC LIMIT 1`).Scan(&mount, &fstype, &used))
	var st syscall.Statfs_t
	must(t, syscall.Statfs("/", &st))
	free, total := float64(st.Bavail), float64(st.Blocks)
	want := (total - float64(st.Bfree)) / (total - float64(st.Bfree) + free) * 100
	if mount != "/" || fstype == "" || used < want-1 || used > want+1 {
		t.Errorf("disk.used_percent = %v on mount %q (%s); statfs says %.2f%% for /", used, mount, fstype, want)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM samples WHERE metric = 'disk.used_percent' AND labels = '{}'`); n != 0 {
		t.Errorf("%d disk samples without labels", n)
	}
	var rx float64
	must(t, db.QueryRow(`SELECT value FROM samples WHERE metric = 'net.rx_bytes_per_second' AND labels ->> 'interface' = 'lo'`).Scan(&rx))
	if rx <= 0 {
		t.Errorf("lo received %v bytes per second between the rounds, which carried SSH traffic over it", rx)
	}

	var fired []string
	for _, m := range sink.received() {
		if strings.Contains(m.data, "Subject: [CSCS] FIRING") {
			fired = append(fired, mailBody(t, m.data))
		}
	}
	if len(fired) != 1 || !strings.Contains(fired[0], "Labels:   mount=/ ") || !strings.Contains(fired[0], "Metric:   disk.used_percent") ||
		!strings.Contains(fired[0], "FIRING root_in_use") || !strings.Contains(fired[0], "FIRING disk") {
		t.Fatalf("FIRING mails %q; want one telling of the disk rule and the overlay's rule on mount /", fired)
	}
	if id := queryInt(t, db, `SELECT COUNT(*) FROM alerts WHERE firing AND rule_id LIKE 'disk>0.01%{%mount="/"}'`); id != 1 {
		t.Errorf("%d firing disk alert states for /, want 1", id)
	}
}
