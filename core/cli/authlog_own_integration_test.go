package cli

import (
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// TestIntegrationAuthlogOwnSession runs two rounds against a real OpenSSH
// sshd while another client stays logged in, and checks the event-log
// mails: the other client's login is listed, the collector's own login
// of each round is not, and each mail says how many of the collector's
// own lines were left out.
func TestIntegrationAuthlogOwnSession(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{Hosts: 1})
	host := fleet.Hosts[0]
	logs, err := filepath.Glob(filepath.Join(fleet.Dir, "sshd_*.log"))
	if err != nil || len(logs) != 1 {
		t.Fatalf("sshd log files %v (%v), want one", logs, err)
	}
	sshdLog := logs[0]
	must(t, os.Chmod(sshdLog, 0o644)) // the agent runs as the fleet's user
	t.Cleanup(func() {
		if data, err := os.ReadFile(sshdLog); err == nil {
			t.Logf("sshd log:\n%s", data)
		}
	})

	// Another client logs in with the fleet's key (the collector uses the
	// password) and stays connected through both rounds.
	other, err := ssh.Dial("tcp", host.Addr(), &ssh.ClientConfig{
		User: fleet.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(fleet.Signer)},
		HostKeyCallback: ssh.FixedHostKey(host.HostKey), Timeout: 5 * time.Second,
	})
	must(t, err)
	defer other.Close()
	otherIP, otherPort, err := net.SplitHostPort(other.LocalAddr().String())
	must(t, err)
	otherLogin := fmt.Sprintf("Accepted publickey for %s from %s port %s", fleet.User, otherIP, otherPort)
	waitForLog(t, sshdLog, otherLogin)

	r := newRoundEnv(t, testagent.Dir(t))
	must(t, os.WriteFile(filepath.Join(r.dir, "pw"), []byte(fleet.Password+"\n"), 0o600))
	r.writeKnownHosts(t, []byte(sshdtest.KnownHostsLine(host)+"\n"))
	r.writeConfig(t, fmt.Sprintf("<clients>\n  <client ip=%q port=\"%d\" username=%q password=\"file:pw\" mail=\"ops@example.com\"/>\n</clients>\n",
		host.IP, host.Port, fleet.User))
	sink := startSMTPSink(t, "cscs", "smtp-secret")
	email := sinkEmailConfig(t, sink.port)

	ownLogin := regexp.MustCompile(`Accepted password for ` + regexp.QuoteMeta(fleet.User) + ` from \S+ port (\d+)`)
	for round := 1; round <= 2; round++ {
		_, out, stderr := runCLI(t, r.args("--authlog-file", sshdLog, "--email-config", email, "--mail-retry-after", "1ms"))
		if len(out.Hosts) != 1 || out.Hosts[0].Status != "ok" {
			t.Fatalf("round %d: hosts %+v\n%s", round, out.Hosts, stderr)
		}
		logData, err := os.ReadFile(sshdLog)
		must(t, err)
		if n := len(ownLogin.FindAll(logData, -1)); n != round {
			t.Fatalf("round %d: sshd logged %d password logins of the collector, want %d", round, n, round)
		}
		var mails []string
		for _, m := range sink.received() {
			if strings.Contains(m.data, "Subject: [CSCS] Event log") {
				mails = append(mails, mailBody(t, m.data))
			}
		}
		if len(mails) != round {
			t.Fatalf("round %d: %d event-log mails, want %d", round, len(mails), round)
		}
		mail := mails[round-1]
		if strings.Contains(mail, "Accepted password") {
			t.Errorf("round %d: the event-log mail lists the collector's own login:\n%s", round, mail)
		}
		if !strings.Contains(mail, "1 line of the collector's own SSH session was left out") {
			t.Errorf("round %d: the event-log mail does not say that the collector's own login was left out:\n%s", round, mail)
		}
		switch round {
		case 1:
			if !strings.Contains(mail, otherLogin) {
				t.Errorf("round 1: the event-log mail lacks the other client's login %q:\n%s", otherLogin, mail)
			}
		case 2:
			if !strings.Contains(mail, "No new events since the last round.") {
				t.Errorf("round 2: want no new events (the other login was mailed in round 1):\n%s", mail)
			}
		}
	}
	db := openDB(t, "sqlite3", r.db)
	if n := queryInt(t, db, `SELECT count(*) FROM events WHERE channel = 'auth' AND event_id = 1 AND message LIKE 'Accepted password%'`); n != 0 {
		t.Errorf("%d accepted-login events of the collector's own sessions stored, want 0", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM events WHERE channel = 'auth' AND event_id = 1 AND message LIKE ?`, otherLogin+"%"); n != 1 {
		t.Errorf("%d accepted-login events of the other client stored, want 1", n)
	}
}

// mailBody is the decoded text of a received quoted-printable mail.
func mailBody(t *testing.T, data string) string {
	t.Helper()
	data = strings.ReplaceAll(data, "\r\n", "\n")
	_, body, ok := strings.Cut(data, "\n\n")
	if !ok {
		t.Fatalf("mail has no body:\n%s", data)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	must(t, err)
	return string(text)
}
