package cli

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/demo/sshfleet"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// TestRoundMailsAlerts: a rule that fires is mailed to its client through a
// real SMTP server; while the server is down the mail waits in the outbox
// and goes out with the next run; a rule that keeps firing is not mailed
// again within the repeat interval, and is with --alert-repeat 0.
func TestRoundMailsAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs several rounds with plugins")
	}
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 2, User: "demo", Password: "pw", TempRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	hosts := fleet.Hosts()
	dir := t.TempDir()
	r := roundEnv{dir: dir, config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: filepath.Join(dir, "cscs.db"), agentDir: testagent.Dir(t)}
	cfg := fmt.Sprintf(`<clients>
  <client ip=%q port="%d" username="demo" password="pw" mail="ops-a@example.com">
    <alert type="uptime" limit="&gt;1s"/>
  </client>
  <client ip=%q port="%d" username="demo" password="pw" mail="ops-b@example.com">
    <alert type="memory" limit="99.9%%"/>
  </client>
</clients>
`, hosts[0].IP, hosts[0].Port, hosts[1].IP, hosts[1].Port)
	must(t, os.WriteFile(r.config, []byte(cfg), 0o600))
	must(t, os.MkdirAll(r.dataDir, 0o700))
	must(t, os.WriteFile(filepath.Join(r.dataDir, "known_hosts"), fleet.KnownHosts(), 0o600))

	sink := startSMTPSink(t, "cscs", "smtp-secret")
	email := func(port int) string {
		return writeEmailConfig(t, map[string]any{"host": "127.0.0.1", "port": port, "security": "none",
			"username": "cscs", "password": "smtp-secret", "from": "CSCS <cscs@example.com>"})
	}
	round := func(emailPath string, extra ...string) string {
		t.Helper()
		args := r.args(append([]string{"--email-config", emailPath, "--mail-retry-after", "1ms"}, extra...)...)
		code, out, stderr := runCLI(t, args)
		if code != ExitOK || out.Counts["ok"] != 2 {
			t.Fatalf("exit %d, counts %v\n%s", code, out.Counts, stderr)
		}
		if strings.Contains(stderr, "smtp-secret") {
			t.Fatalf("the SMTP password leaked:\n%s", stderr)
		}
		return stderr
	}

	// Round 1: the mail server is down; the alert waits in the outbox.
	stderr := round(email(unusedPort(t)))
	if !strings.Contains(stderr, "retrying later") || len(sink.received()) != 0 {
		t.Fatalf("round 1: want the mail kept for later:\n%s", stderr)
	}
	// Round 2: the server is up; the waiting mail goes out, once.
	up := email(sink.port)
	round(up)
	mails := alertMails(sink.received())
	if len(mails) != 1 {
		t.Fatalf("round 2: %d alert mails, want 1", len(mails))
	}
	// Both Linux hosts have the authlog source: each got an event-log mail
	// in each round, also when there were no new events.
	if got := eventLogMails(sink.received()); got["ops-a@example.com"] != 2 || got["ops-b@example.com"] != 2 {
		t.Errorf("event-log mails per client after two rounds: %v, want 2 each", got)
	}
	m := mails[0]
	if len(m.to) != 1 || m.to[0] != "ops-a@example.com" {
		t.Errorf("mail went to %v", m.to)
	}
	for _, want := range []string{"Subject: [CSCS] FIRING", hosts[0].IP, "uptime"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.data)
		}
	}
	// The consuming application sees the alert and the mail in its database.
	db, err := sql.Open("sqlite3", r.db)
	must(t, err)
	defer db.Close()
	var firing, sent int
	must(t, db.QueryRow(`SELECT count(*) FROM firing_alerts WHERE host_ip = ? AND type = 'uptime'`, hosts[0].IP).Scan(&firing))
	must(t, db.QueryRow(`SELECT count(*) FROM notifications WHERE status = 'sent' AND kind = 'alert' AND attempts >= 1`).Scan(&sent))
	var eventMails int
	must(t, db.QueryRow(`SELECT count(*) FROM notifications WHERE status = 'sent' AND kind = 'eventlog'`).Scan(&eventMails))
	if eventMails != 4 {
		t.Errorf("database: %d sent event-log notifications, want 4", eventMails)
	}
	if firing != 1 || sent != 1 {
		t.Errorf("database: %d firing alerts, %d sent notifications; want 1 and 1", firing, sent)
	}

	// Round 3: still firing, within the 4h repeat interval: no mail.
	round(up)
	if n := len(alertMails(sink.received())); n != 1 {
		t.Fatalf("round 3: %d alert mails, want still 1", n)
	}
	// Round 4: --alert-repeat 0 mails every round while the rule fires.
	round(up, "--alert-repeat", "0")
	mails = alertMails(sink.received())
	if len(mails) != 2 || !strings.Contains(mails[1].data, "STILL FIRING") {
		t.Fatalf("round 4: %d alert mails, want a STILL FIRING repeat", len(mails))
	}
	if got := eventLogMails(sink.received()); got["ops-a@example.com"] != 4 {
		t.Errorf("event-log mails after four rounds: %v, want 4 for ops-a", got)
	}
}

// alertMails keeps the alert mails (not the event-log ones), in order.
func alertMails(all []receivedMail) []receivedMail {
	var out []receivedMail
	for _, m := range all {
		if !strings.Contains(m.data, "Subject: [CSCS] Event log") {
			out = append(out, m)
		}
	}
	return out
}

// eventLogMails counts the event-log mails per recipient.
func eventLogMails(all []receivedMail) map[string]int {
	out := make(map[string]int)
	for _, m := range all {
		if strings.Contains(m.data, "Subject: [CSCS] Event log") && len(m.to) == 1 {
			out[m.to[0]]++
		}
	}
	return out
}
