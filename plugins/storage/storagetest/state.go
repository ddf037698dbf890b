package storagetest

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

const (
	// alertsQuery reads every column of alerts, with the host's address
	// for its id.
	alertsQuery = `SELECT h.ip, h.port, a.rule_id, a.type, a.metric, a.condition, a.firing,
	                      a.since, a.last_notified, a.last_value, a.updated_at
	               FROM alerts a JOIN hosts h ON h.id = a.host_id
	               ORDER BY h.ip, h.port, a.rule_id`
	// notificationsQuery reads every column of notifications but the
	// recipients (see recipientsOf), with the host's address for its id.
	notificationsQuery = `SELECT n.id, n.kind, h.ip, h.port, n.subject, n.status, n.attempts, n.last_error,
	                             n.created_at, n.sent_at, n.updated_at
	                      FROM notifications n LEFT JOIN hosts h ON h.id = n.host_id
	                      ORDER BY n.id`
	// notificationChannelsQuery reads each notification's channel.
	notificationChannelsQuery = `SELECT id, channel FROM notifications ORDER BY id`
	// firingAlertsQuery reads every column docs/schema.md promises for
	// firing_alerts, except the host id.
	firingAlertsQuery = `SELECT host_ip, host_port, hostname, rule_id, type, metric, condition,
	                            last_value, since, last_notified, updated_at
	                     FROM firing_alerts ORDER BY host_ip, host_port, rule_id`
)

// mixedRoundAlerts and mixedRoundNotifications are what alertsQuery and
// notificationsQuery show for testdata/mixed_round.json.
const (
	mixedRoundAlerts = "" +
		"ip=10.0.0.1 port=22 rule_id=cpu>90 type=cpu metric=cpu.percent condition=> 90 % firing=0 " +
		"since=<nil> last_notified=<nil> last_value=12.5 updated_at=2026-11-25T21:10:05.250Z \n" +
		"ip=10.0.0.1 port=22 rule_id=memory>40 type=memory metric=memory.used_percent condition=> 40% firing=1 " +
		"since=2026-11-25T21:10:01.456Z last_notified=2026-11-25T21:10:05.250Z last_value=41.25 updated_at=2026-11-25T21:10:05.250Z \n" +
		"ip=fd00::3 port=22 rule_id=memory>40 type=memory metric=memory.used_percent condition=> 40% firing=0 " +
		"since=2026-11-24T08:00:00.000Z last_notified=2026-11-24T08:00:01.000Z last_value=12 updated_at=2026-11-25T21:10:05.250Z \n"
	mixedRoundNotifications = "" +
		"id=mail-test-1 kind=test ip=<nil> port=<nil> subject=CSCS test mail status=failed attempts=5 " +
		"last_error=550 5.1.1 <ops@example.com>: mailbox unavailable " +
		"created_at=2026-11-25T21:00:00.000Z sent_at=<nil> updated_at=2026-11-25T21:05:00.000Z \n" +
		"id=round-0001/10.0.0.1:22/alert kind=alert ip=10.0.0.1 port=22 subject=CSCS alert: web-1 (10.0.0.1) memory 41.25% > 40% " +
		"status=sent attempts=1 last_error=<nil> " +
		"created_at=2026-11-25T21:10:05.250Z sent_at=2026-11-25T21:10:05.750Z updated_at=2026-11-25T21:10:05.750Z \n" +
		"id=round-0001/fd00::3:22/eventlog kind=eventlog ip=fd00::3 port=22 subject=CSCS event log: fd00::3 " +
		"status=pending attempts=2 last_error=421 4.7.0 try again later " +
		"created_at=2026-11-25T21:10:05.250Z sent_at=<nil> updated_at=2026-11-25T21:10:06.000Z \n"
	mixedRoundRecipients = "" +
		"mail-test-1 [ops@example.com]\n" +
		"round-0001/10.0.0.1:22/alert [ops@example.com|Anna Müller <anna@example.com>]\n" +
		"round-0001/fd00::3:22/eventlog [security@example.com]\n"
)

// recipientsOf reads notifications.recipients, which each backend
// returns as JSON text in its own spacing, as "id [a|b]" lines.
func recipientsOf(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, recipients FROM notifications ORDER BY id`)
	if err != nil {
		t.Fatalf("read recipients: %v", err)
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var (
			id  string
			raw []byte
			to  []string
		)
		if err := rows.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &to); err != nil {
			t.Fatalf("recipients of %s are not a JSON array of strings: %q: %v", id, raw, err)
		}
		fmt.Fprintf(&sb, "%s [%s]\n", id, strings.Join(to, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// withState adds to b, for every collection, the state of rule "cpu>50"
// on its host and a sent alert notification about it, both updated at
// the batch's start.
func withState(b *storage.Batch) *storage.Batch {
	for i, c := range b.Collections {
		b.Alerts = append(b.Alerts, storage.AlertState{
			HostIP: c.HostIP, HostPort: c.HostPort, RuleID: "cpu>50", Type: "cpu", Metric: "cpu.percent",
			Condition: "> 50%", Firing: i%2 == 0, Since: b.StartedAt, LastValue: float64(i), UpdatedAt: b.StartedAt,
		})
		b.Notifications = append(b.Notifications, storage.NotificationRecord{
			ID: b.RoundID + "/" + c.HostIP, Kind: storage.NotificationAlert, HostIP: c.HostIP, HostPort: c.HostPort,
			Recipients: []string{"ops@example.com"}, Subject: "alert " + c.HostIP, Status: storage.NotificationSent,
			Attempts: 1, CreatedAt: b.StartedAt, SentAt: b.StartedAt, UpdatedAt: b.StartedAt,
		})
	}
	return b
}

// testStateUpdates writes one alert and one notification through their
// life: a rewrite changes nothing, an older record is ignored, a newer
// (or equally new) one is applied.
func testStateUpdates(t *testing.T, d Database) {
	s := open(t, d, "")
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	batch := func(round string, at time.Time, firing bool, value float64, status string, attempts int) *storage.Batch {
		n := storage.NotificationRecord{
			ID: "n-1", Kind: storage.NotificationAlert, HostIP: "10.0.0.1", HostPort: 22,
			Recipients: []string{"ops@example.com"}, Subject: "memory", Status: status, Attempts: attempts,
			CreatedAt: t0, UpdatedAt: at,
		}
		if status == storage.NotificationSent {
			n.SentAt = at
		}
		return &storage.Batch{RoundID: round, StartedAt: at, Alerts: []storage.AlertState{{
			HostIP: "10.0.0.1", HostPort: 22, RuleID: "memory>90", Type: "memory", Metric: "memory.used_percent",
			Condition: "> 90%", Firing: firing, Since: at, LastValue: value, UpdatedAt: at,
		}}, Notifications: []storage.NotificationRecord{n}}
	}
	const q = `SELECT a.firing, a.last_value, a.since, a.updated_at AS alert_updated,
	                  n.status, n.attempts, n.sent_at, n.updated_at AS notification_updated
	           FROM alerts a CROSS JOIN notifications n`
	const (
		atT1 = "firing=1 last_value=95 since=2026-11-26T10:01:00.000Z alert_updated=2026-11-26T10:01:00.000Z " +
			"status=pending attempts=0 sent_at=<nil> notification_updated=2026-11-26T10:01:00.000Z \n"
		atT2 = "firing=0 last_value=50 since=2026-11-26T10:02:00.000Z alert_updated=2026-11-26T10:02:00.000Z " +
			"status=sent attempts=1 sent_at=2026-11-26T10:02:00.000Z notification_updated=2026-11-26T10:02:00.000Z \n"
		atT2Again = "firing=1 last_value=60 since=2026-11-26T10:02:00.000Z alert_updated=2026-11-26T10:02:00.000Z " +
			"status=failed attempts=2 sent_at=<nil> notification_updated=2026-11-26T10:02:00.000Z \n"
	)
	// The steps run in order, each on the database the previous left.
	steps := []struct {
		name  string
		batch *storage.Batch
		want  string
	}{
		{"first write", batch("r1", t1, true, 95, storage.NotificationPending, 0), atT1},
		{"same batch again", batch("r1", t1, true, 95, storage.NotificationPending, 0), atT1},
		{"older is ignored", batch("r0", t0, false, 10, storage.NotificationFailed, 9), atT1},
		{"newer is applied", batch("r2", t2, false, 50, storage.NotificationSent, 1), atT2},
		{"replayed older round is ignored", batch("r1", t1, true, 95, storage.NotificationPending, 0), atT2},
		{"equally new is applied", batch("r2b", t2, true, 60, storage.NotificationFailed, 2), atT2Again},
	}
	for _, step := range steps {
		write(t, s, step.batch)
		if got := Dump(t, d.SQL, q); got != step.want {
			t.Errorf("%s: alert and notification:\n%s\nwant\n%s", step.name, got, step.want)
		}
	}
	if got := counts(t, d.SQL); got != "hosts=1 collections=0 samples=0 alerts=1 notifications=1 events=0" {
		t.Errorf("row counts = %s; want one host, alert and notification", got)
	}
}

// testStateHosts writes alerts and notifications of hosts that are not in
// the batch's collections, and notifications about no host.
func testStateHosts(t *testing.T, d Database) {
	s := open(t, d, "")
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	note := func(id, ip string, port int) storage.NotificationRecord {
		return storage.NotificationRecord{ID: id, Kind: storage.NotificationEventLog, HostIP: ip, HostPort: port,
			Recipients: []string{"ops@example.com"}, Status: storage.NotificationPending, CreatedAt: at, UpdatedAt: at}
	}
	stateOnly := &storage.Batch{RoundID: "retry", StartedAt: at,
		Alerts: []storage.AlertState{{HostIP: "10.0.0.7", HostPort: 2200, RuleID: "cpu>1", Firing: true, LastValue: 5, UpdatedAt: at}},
		Notifications: []storage.NotificationRecord{
			note("n-a", "10.0.0.7", 2200), // the alert's host: one row for both
			note("n-b", "", 0),
			note("n-c", "10.0.0.8", 0), // no port: no host
			note("n-d", "10.0.0.9", 22),
		},
	}
	write(t, s, stateOnly)
	const hosts = `SELECT ip, port, hostname, first_seen, last_seen, last_status, last_ok_at FROM hosts ORDER BY ip`
	const bareHosts = "" +
		"ip=10.0.0.7 port=2200 hostname=<nil> first_seen=<nil> last_seen=<nil> last_status=<nil> last_ok_at=<nil> \n" +
		"ip=10.0.0.9 port=22 hostname=<nil> first_seen=<nil> last_seen=<nil> last_status=<nil> last_ok_at=<nil> \n"
	if got := Dump(t, d.SQL, hosts); got != bareHosts {
		t.Errorf("hosts named only by alerts and notifications:\n%s\nwant\n%s", got, bareHosts)
	}
	const noteHosts = `SELECT n.id, h.ip, h.port FROM notifications n LEFT JOIN hosts h ON h.id = n.host_id ORDER BY n.id`
	const wantNoteHosts = "" +
		"id=n-a ip=10.0.0.7 port=2200 \n" +
		"id=n-b ip=<nil> port=<nil> \n" +
		"id=n-c ip=<nil> port=<nil> \n" +
		"id=n-d ip=10.0.0.9 port=22 \n"
	if got := Dump(t, d.SQL, noteHosts); got != wantNoteHosts {
		t.Errorf("notification hosts:\n%s\nwant\n%s", got, wantNoteHosts)
	}
	if n := Count(t, d.SQL, "notifications WHERE host_id IS NULL"); n != 2 {
		t.Errorf("%d notifications without host_id; want 2", n)
	}

	// A later round of the host fills its row; the alert keeps its host.
	c := OKCollection("10.0.0.7", at.Add(time.Minute), map[string]float64{"cpu.percent": 7})
	c.HostPort = 2200
	write(t, s, &storage.Batch{RoundID: "later", StartedAt: at.Add(time.Minute), Collections: []storage.Collection{c}})
	const joined = `SELECT h.ip, h.hostname, h.last_status, a.rule_id FROM alerts a JOIN hosts h ON h.id = a.host_id`
	const wantJoined = "ip=10.0.0.7 hostname=host-10.0.0.7 last_status=ok rule_id=cpu>1 \n"
	if got := Dump(t, d.SQL, joined); got != wantJoined {
		t.Errorf("alert's host after its round:\n%s\nwant\n%s", got, wantJoined)
	}
	if n := Count(t, d.SQL, "hosts"); n != 2 {
		t.Errorf("hosts = %d; want 2 (the round reuses the row the alert added)", n)
	}

	// Retrying the notifications leaves the filled host as it is.
	before := dumpAll(t, d.SQL)
	write(t, s, stateOnly)
	for i, got := range dumpAll(t, d.SQL) {
		if got != before[i] {
			t.Errorf("%s changed when the state-only batch was written again:\n%s\nwant\n%s", wholeTables[i], got, before[i])
		}
	}
}

// testFiringAlerts checks the firing_alerts view as rules fire and resolve.
func testFiringAlerts(t *testing.T, d Database) {
	s := open(t, d, "")
	write(t, s, mixedRound(t))
	const first = "host_ip=10.0.0.1 host_port=22 hostname=web-1 rule_id=memory>40 type=memory metric=memory.used_percent condition=> 40% " +
		"last_value=41.25 since=2026-11-25T21:10:01.456Z last_notified=2026-11-25T21:10:05.250Z updated_at=2026-11-25T21:10:05.250Z \n"
	if got := Dump(t, d.SQL, firingAlertsQuery); got != first {
		t.Errorf("firing_alerts:\n%s\nwant\n%s", got, first)
	}

	// memory>40 resolves on 10.0.0.1; cpu>90 starts firing on fd00::3.
	at := time.Date(2026, 11, 25, 21, 20, 0, 0, time.UTC)
	write(t, s, &storage.Batch{RoundID: "round-0002", StartedAt: at, Alerts: []storage.AlertState{
		{HostIP: "10.0.0.1", HostPort: 22, RuleID: "memory>40", Type: "memory", Metric: "memory.used_percent",
			Condition: "> 40%", Firing: false, Since: at, LastValue: 30, UpdatedAt: at},
		{HostIP: "fd00::3", HostPort: 22, RuleID: "cpu>90", Type: "cpu", Metric: "cpu.percent",
			Condition: "> 90 %", Firing: true, Since: at, LastNotified: at, LastValue: 99.5, UpdatedAt: at},
	}})
	const second = "host_ip=fd00::3 host_port=22 hostname=<nil> rule_id=cpu>90 type=cpu metric=cpu.percent condition=> 90 % " +
		"last_value=99.5 since=2026-11-25T21:20:00.000Z last_notified=2026-11-25T21:20:00.000Z updated_at=2026-11-25T21:20:00.000Z \n"
	if got := Dump(t, d.SQL, firingAlertsQuery); got != second {
		t.Errorf("firing_alerts after a rule resolved and another fired:\n%s\nwant\n%s", got, second)
	}
	const ids = `SELECT COUNT(*) AS n FROM firing_alerts f JOIN hosts h ON h.id = f.host_id AND h.ip = f.host_ip AND h.port = f.host_port`
	if got := Dump(t, d.SQL, ids); got != "n=1 \n" {
		t.Errorf("firing_alerts host_id does not name its host: %s", got)
	}
}

// testNotificationText checks that text in alerts and notifications is
// cleaned as host text is: valid UTF-8, no NUL, bounded.
func testNotificationText(t *testing.T, d Database) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	b := &storage.Batch{RoundID: "r", StartedAt: at,
		Alerts: []storage.AlertState{{HostIP: "10.0.0.1", HostPort: 22, RuleID: "cpu\x00>1", Condition: "> 1\xff", UpdatedAt: at}},
		Notifications: []storage.NotificationRecord{{
			ID: "n", Kind: storage.NotificationAlert, Recipients: []string{"a\x00b@example.com"},
			Subject: "bad\xffname\x00end", Status: storage.NotificationPending,
			LastError: strings.Repeat("é", 10000), UpdatedAt: at,
		}},
	}
	write(t, open(t, d, ""), b)
	const wantAlert = "rule_id=cpu\uFFFD>1 condition=> 1\uFFFD \n"
	if got := Dump(t, d.SQL, `SELECT rule_id, condition FROM alerts`); got != wantAlert {
		t.Errorf("alert text %q; want %q", got, wantAlert)
	}
	var subject, lastError string
	if err := d.SQL.QueryRow(`SELECT subject, last_error FROM notifications`).Scan(&subject, &lastError); err != nil {
		t.Fatal(err)
	}
	checkCleaned(t, "subject", subject, "last error", lastError)
	if got, want := recipientsOf(t, d.SQL), "n [a\uFFFDb@example.com]\n"; got != want {
		t.Errorf("recipients %q; want %q", got, want)
	}
}

// testNotificationChannels stores each record's channel, "email" for a
// record that names none (cores before channels), and moves a record to
// the channel a newer write gives.
func testNotificationChannels(t *testing.T, d Database) {
	s := open(t, d, "")
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	record := func(id, channel string, updated time.Time) storage.NotificationRecord {
		return storage.NotificationRecord{ID: id, Kind: storage.NotificationAlert, HostIP: "10.0.0.1", HostPort: 22,
			Recipients: []string{}, Subject: "memory", Status: storage.NotificationPending, CreatedAt: at, UpdatedAt: updated,
			Channel: channel}
	}
	write(t, s, &storage.Batch{RoundID: "r1", StartedAt: at, Notifications: []storage.NotificationRecord{
		record("n-1", "", at), record("n-1@chat", "chat", at), record("n-1@pager", "pager\x00\n", at),
	}})
	const want = "id=n-1 channel=email \nid=n-1@chat channel=chat \nid=n-1@pager channel=pager\uFFFD\uFFFD \n"
	if got := Dump(t, d.SQL, notificationChannelsQuery); got != want {
		t.Fatalf("channels:\n%s\nwant\n%s", got, want)
	}
	write(t, s, &storage.Batch{RoundID: "r2", StartedAt: at, Notifications: []storage.NotificationRecord{
		record("n-1", "chat", at.Add(time.Minute)),
	}})
	if got := Dump(t, d.SQL, `SELECT channel FROM notifications WHERE id = 'n-1'`); got != "channel=chat \n" {
		t.Errorf("channel after a newer write: %q, want chat", got)
	}
}
