package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestRoundMailsAlerts: a rule that fires is mailed to its client through a
// real SMTP server; while the server is down the mail waits in the outbox
// and goes out with the next run; a rule that keeps firing is not mailed
// again within the repeat interval, and is with --alert-repeat 0.
func TestRoundMailsAlerts(t *testing.T) {
	skipShort(t, "runs several rounds with plugins")
	r, fleet := fleetRound(t, "")
	hosts := fleet.Hosts()
	cfg := fmt.Sprintf(`<clients>
  <client ip=%q port="%d" username="demo" password="pw" mail="ops-a@example.com">
    <alert type="uptime" limit="&gt;1s"/>
  </client>
  <client ip=%q port="%d" username="demo" password="pw" mail="ops-b@example.com">
    <alert type="memory" limit="99.9%%"/>
  </client>
</clients>
`, hosts[0].IP, hosts[0].Port, hosts[1].IP, hosts[1].Port)
	r.writeConfig(t, cfg)

	sink := startSMTPSink(t, "cscs", "smtp-secret")
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
	stderr := round(sinkEmailConfig(t, unusedPort(t)))
	if !strings.Contains(stderr, "retrying later") || len(sink.received()) != 0 {
		t.Fatalf("round 1: want the mail kept for later:\n%s", stderr)
	}
	// Round 2: the server is up; the waiting mail goes out, once.
	up := sinkEmailConfig(t, sink.port)
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
	db := openDB(t, "sqlite3", r.db)
	firing := queryInt(t, db, `SELECT count(*) FROM firing_alerts WHERE host_ip = ? AND type = 'uptime'`, hosts[0].IP)
	sent := queryInt(t, db, `SELECT count(*) FROM notifications WHERE status = 'sent' AND kind = 'alert' AND attempts >= 1`)
	if eventMails := queryInt(t, db, `SELECT count(*) FROM notifications WHERE status = 'sent' AND kind = 'eventlog'`); eventMails != 4 {
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

// TestRoundAlertFiresAndResolves moves a metric across its limit between
// rounds (through an installed source plugin whose script reads a file) and
// checks the mails: FIRING, nothing while it keeps firing, RESOLVED.
func TestRoundAlertFiresAndResolves(t *testing.T) {
	skipShort(t, "builds a plugin and runs several rounds")
	r, fleet := fleetRound(t, "")
	valueFile := filepath.Join(t.TempDir(), "gauge-value")
	must(t, os.WriteFile(valueFile, []byte("95"), 0o644))
	bin := sdktest.Build(t, "github.com/cscs-dev/cscs/core/internal/testplugins/gauge", "-ldflags", "-X main.valueFile="+valueFile)
	mustInstall(t, r.dataDir, bin)
	// One client with a rule on the plugin's alert type.
	cfg, err := os.ReadFile(r.config)
	must(t, err)
	first := fleet.Hosts()[0]
	cfg = bytes.Replace(cfg, []byte(`mail="ops@example.com"/>`), []byte(`mail="ops@example.com"><alert type="gauge" limit="90%"/></client>`), 1)
	must(t, os.WriteFile(r.config, cfg, 0o600))

	sink := startSMTPSink(t, "cscs", "smtp-secret")
	email := sinkEmailConfig(t, sink.port)
	round := func(value string) []receivedMail {
		t.Helper()
		must(t, os.WriteFile(valueFile, []byte(value), 0o644))
		before := len(alertMails(sink.received()))
		code, out, stderr := runCLI(t, r.args("--email-config", email))
		if code != ExitOK || out.Counts["ok"] != 2 {
			t.Fatalf("value %s: exit %d, counts %v\n%s", value, code, out.Counts, stderr)
		}
		if v := out.Hosts[0].Metrics["gauge.value"]; v == 0 {
			t.Fatalf("value %s: gauge.value missing: %v", value, out.Hosts[0].Metrics)
		}
		return alertMails(sink.received())[before:]
	}
	if got := round("95"); len(got) != 1 || !strings.Contains(got[0].data, "Subject: [CSCS] FIRING") || !strings.Contains(got[0].data, first.IP) {
		t.Fatalf("95%% > 90%%: want one FIRING mail, got %d", len(got))
	}
	if got := round("97"); len(got) != 0 {
		t.Fatalf("still above the limit within the repeat interval: want no mail, got %d", len(got))
	}
	got := round("10")
	if len(got) != 1 || !strings.Contains(got[0].data, "Subject: [CSCS] RESOLVED") || !strings.Contains(got[0].data, "gauge.value") {
		t.Fatalf("10%%: want one RESOLVED mail, got %d", len(got))
	}
	if got := round("12"); len(got) != 0 {
		t.Fatalf("resolved and staying low: want no mail, got %d", len(got))
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
