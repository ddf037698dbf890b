package storagetest

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Dialect is what differs between the backends' forms of the example
// queries of docs/schema.md.
type Dialect struct {
	// Ago is the instant span ("30 days", "1 hour") before now, as the
	// backend compares it with a stored timestamp.
	Ago func(span string) string
	// SentTo is the FROM and WHERE clauses that pick the notifications n
	// whose recipients include address.
	SentTo func(address string) string
	// Field is the value of key in the JSON object of column.
	Field func(column, key string) string
	// Plan is the query plan of query, for the indexes it uses.
	Plan func(t *testing.T, db *sql.DB, query string) string
	// Indexes replace the index a query must use, by the query's name:
	// "a|b" for one of them.
	Indexes map[string]string
}

// ConsumerQueries runs the example queries of docs/schema.md against a
// real database: they are the contract's usage examples, so they must
// work, return the same rows on every backend, and use the indexes meant
// for them. write stores a batch into the database db connects to.
func ConsumerQueries(t *testing.T, d Dialect, db *sql.DB, write func(ctx context.Context, b *storage.Batch) error) {
	ctx := context.Background()
	for _, b := range consumerBatches(time.Now().UTC().Truncate(time.Second)) {
		if err := write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}

	tests := map[string]struct {
		query     string
		want      string
		wantIndex string // an index the plan must mention; "a|b": one of them
	}{
		"every file system, fullest first": {
			query: `SELECT l.host_ip, s.labels ->> 'mount' AS mount, s.labels ->> 'fstype' AS fstype, s.value AS used_percent
			        FROM latest_stats l
			        JOIN samples s ON s.collection_id = l.collection_id AND s.metric = 'disk.used_percent'
			        ORDER BY s.value DESC`,
			want: "host_ip=10.0.0.1 mount=/srv/data fstype=xfs used_percent=95.5 \n" +
				"host_ip=10.0.0.2 mount=/ fstype=xfs used_percent=50 \n" +
				"host_ip=10.0.0.1 mount=/ fstype=xfs used_percent=30 \n",
		},
		"hosts with a file system over 90 %": {
			query: `SELECT hostname, host_ip, disk_used_percent_max FROM latest_stats
			        WHERE disk_used_percent_max > 90 ORDER BY disk_used_percent_max DESC`,
			want: "hostname=host-10.0.0.1 host_ip=10.0.0.1 disk_used_percent_max=95.5 \n",
		},
		"an interface's traffic over time": {
			query: `SELECT s.value AS bytes_per_second
			        FROM samples s JOIN hosts h ON h.id = s.host_id
			        WHERE h.ip = '10.0.0.1' AND h.port = 22 AND s.metric = 'net.rx_bytes_per_second'
			          AND s.labels ->> 'interface' = 'eth0'
			        ORDER BY s.collected_at`,
			want:      "bytes_per_second=100 \nbytes_per_second=2500 \n",
			wantIndex: "samples_host_metric_collected",
		},
		"latest stats per host": {
			query: `SELECT host_ip, hostname, cpu_percent, memory_percent, os
			        FROM latest_stats ORDER BY host_ip`,
			want: "host_ip=10.0.0.1 hostname=host-10.0.0.1 cpu_percent=25 memory_percent=40 os=linux \n" +
				"host_ip=10.0.0.2 hostname=host-10.0.0.2 cpu_percent=3 memory_percent=70 os=linux \n",
			wantIndex: "collections_host_status_started",
		},
		"a host's history": {
			query: `SELECT c.status, cpu.value AS cpu_percent, mem.value AS memory_percent
			        FROM collections c
			        JOIN hosts h ON h.id = c.host_id
			        LEFT JOIN samples cpu ON cpu.collection_id = c.id AND cpu.metric = 'cpu.percent'
			        LEFT JOIN samples mem ON mem.collection_id = c.id AND mem.metric = 'memory.used_percent'
			        WHERE h.ip = '10.0.0.1' AND h.port = 22
			          AND c.started_at >= ` + d.Ago("30 days") + `
			        ORDER BY c.started_at`,
			want:      "status=ok cpu_percent=5 memory_percent=10 \nstatus=ok cpu_percent=25 memory_percent=40 \n",
			wantIndex: "collections_host_started",
		},
		"one metric of a host over time": {
			query: `SELECT s.value
			        FROM samples s JOIN hosts h ON h.id = s.host_id
			        WHERE h.ip = '10.0.0.1' AND h.port = 22 AND s.metric = 'cpu.percent'
			          AND s.collected_at >= ` + d.Ago("1 day") + `
			        ORDER BY s.collected_at`,
			want:      "value=25 \n",
			wantIndex: "samples_host_metric_collected",
		},
		"hosts over a limit": {
			query: `SELECT host_ip, memory_percent, cpu_percent
			        FROM latest_stats
			        WHERE memory_percent > 50 OR cpu_percent > 20
			        ORDER BY host_ip`,
			want: "host_ip=10.0.0.1 memory_percent=40 cpu_percent=25 \n" +
				"host_ip=10.0.0.2 memory_percent=70 cpu_percent=3 \n",
		},
		"failed collections in the last day": {
			query: `SELECT h.ip, c.status, c.error
			        FROM collections c JOIN hosts h ON h.id = c.host_id
			        WHERE c.started_at >= ` + d.Ago("1 day") + `
			          AND c.status <> 'ok'
			        ORDER BY c.started_at DESC`,
			want:      "ip=10.0.0.3 status=host_key_mismatch error=host key changed \n",
			wantIndex: "collections_started",
		},
		"hosts without an ok collection for an hour": {
			query: `SELECT ip, last_status
			        FROM hosts
			        WHERE last_ok_at IS NULL
			           OR last_ok_at < ` + d.Ago("1 hour") + `
			        ORDER BY ip`,
			want: "ip=10.0.0.3 last_status=host_key_mismatch \n",
		},
		"alerts firing now": {
			query: `SELECT host_ip, hostname, type, condition, last_value
			        FROM firing_alerts
			        ORDER BY host_ip, rule_id`,
			want: "host_ip=10.0.0.1 hostname=host-10.0.0.1 type=cpu condition=> 20% last_value=25 \n" +
				"host_ip=10.0.0.2 hostname=host-10.0.0.2 type=memory condition=> 50% last_value=70 \n",
		},
		"mail that failed in the last day": {
			query: `SELECT n.id, h.ip, n.attempts, n.last_error
			        FROM notifications n LEFT JOIN hosts h ON h.id = n.host_id
			        WHERE n.status = 'failed'
			          AND n.created_at >= ` + d.Ago("1 day") + `
			        ORDER BY n.created_at DESC`,
			want:      "id=r-2 ip=10.0.0.2 attempts=1 last_error=550 5.1.1 <db@example.com>: mailbox unavailable \n",
			wantIndex: "notifications_status_created",
		},
		"mail waiting for a retry": {
			query: `SELECT n.id, n.attempts, n.last_error
			        FROM notifications n
			        WHERE n.status IN ('pending', 'sending') AND n.attempts > 0
			        ORDER BY n.created_at`,
			want: "id=r-3 attempts=2 last_error=421 4.7.0 try again later \n",
		},
		"the mail sent to one address": {
			query: `SELECT n.id, n.status
			        ` + d.SentTo("db@example.com") + `
			        ORDER BY n.created_at DESC`,
			want: "id=r-2 status=failed \n",
		},
		"failed logons in the last day per host": {
			query: `SELECT h.ip, h.hostname, COUNT(*) AS failed_logons
			        FROM events e JOIN hosts h ON h.id = e.host_id
			        WHERE e.channel = 'Security' AND e.event_id = 4625
			          AND e.event_time >= ` + d.Ago("1 day") + `
			        GROUP BY h.id, h.ip, h.hostname
			        ORDER BY failed_logons DESC, h.ip`,
			want: "ip=10.0.0.1 hostname=host-10.0.0.1 failed_logons=2 \n" +
				"ip=10.0.0.2 hostname=host-10.0.0.2 failed_logons=1 \n",
			wantIndex: "events_event_id_time",
		},
		"failed logons in the last day per account": {
			query: `SELECT ` + d.Field("e.fields", "TargetUserName") + ` AS account, COUNT(*) AS attempts
			        FROM events e
			        WHERE e.channel = 'Security' AND e.event_id = 4625
			          AND e.event_time >= ` + d.Ago("1 day") + `
			        GROUP BY account
			        ORDER BY attempts DESC, account`,
			want:      "account=admin attempts=2 \naccount=guest attempts=1 \n",
			wantIndex: "events_event_id_time",
		},
		"a host's last 50 events": {
			query: `SELECT e.channel, e.record_id, e.event_id, e.message
			        FROM events e JOIN hosts h ON h.id = e.host_id
			        WHERE h.ip = '10.0.0.1' AND h.port = 22
			        ORDER BY e.event_time DESC
			        LIMIT 50`,
			want: "channel=Security record_id=22 event_id=4624 message=logon of ops \n" +
				"channel=Security record_id=21 event_id=4625 message=logon of guest \n" +
				"channel=Security record_id=20 event_id=4625 message=logon of admin \n" +
				"channel=Security record_id=10 event_id=4625 message=logon of admin \n",
			wantIndex: "events_host_time",
		},
		"schema version": {
			query: `SELECT MAX(version) AS version FROM schema_migrations`,
			want:  "version=6 \n",
		},
	}
	for name, tc := range tests {
		if index, ok := d.Indexes[name]; ok {
			tc.wantIndex = index
		}
		t.Run(name, func(t *testing.T) {
			if got := Dump(t, db, tc.query); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if tc.wantIndex == "" {
				return
			}
			plan := d.Plan(t, db, tc.query)
			if !slices.ContainsFunc(strings.Split(tc.wantIndex, "|"), func(index string) bool { return strings.Contains(plan, index) }) {
				t.Errorf("query plan does not use %s:\n%s", tc.wantIndex, plan)
			}
		})
	}
}

// consumerBatches are a round of a week ago and a recent one, with
// events, alerts and notifications, for the example queries.
func consumerBatches(now time.Time) []*storage.Batch {
	week := now.Add(-8 * 24 * time.Hour)
	recent := now.Add(-30 * time.Minute)

	logon := func(rec uint64, id int, at time.Time, account string) storage.Event {
		return storage.Event{Channel: "Security", RecordID: rec, Time: at, Level: "Information",
			Provider: "Microsoft-Windows-Security-Auditing", EventID: id, Computer: "DC-1",
			Message: "logon of " + account, Fields: map[string]string{"TargetUserName": account, "IpAddress": "198.51.100.7"}}
	}
	withEvents := func(c storage.Collection, events ...storage.Event) storage.Collection {
		c.Events = events
		return c
	}
	// withDisks adds file systems (mount, used percent) and eth0's
	// received bytes per second.
	withDisks := func(c storage.Collection, rx float64, mounts ...any) storage.Collection {
		for i := 0; i+1 < len(mounts); i += 2 {
			c.Samples = append(c.Samples, storage.Sample{Metric: "disk.used_percent", Value: mounts[i+1].(float64), Unit: "percent",
				Time: c.StartedAt, Labels: map[string]string{"mount": mounts[i].(string), "device": "/dev/vda", "fstype": "xfs"}})
		}
		c.Samples = append(c.Samples, storage.Sample{Metric: "net.rx_bytes_per_second", Value: rx, Unit: "bytes_per_second",
			Time: c.StartedAt, Labels: map[string]string{"interface": "eth0"}})
		return c
	}
	return []*storage.Batch{
		{RoundID: "old", StartedAt: week, Collections: []storage.Collection{
			withDisks(withEvents(OKCollection("10.0.0.1", week, map[string]float64{"cpu.percent": 5, "memory.used_percent": 10}),
				logon(10, 4625, week, "admin")), 100, "/", 20.0),
			{HostIP: "10.0.0.2", HostPort: 22, Status: storage.StatusTimeout, Error: "old failure", StartedAt: week},
		}},
		{RoundID: "recent", StartedAt: recent, Collections: []storage.Collection{
			withDisks(withEvents(OKCollection("10.0.0.1", recent, map[string]float64{"cpu.percent": 25, "memory.used_percent": 40}),
				logon(20, 4625, recent.Add(-2*time.Minute), "admin"), logon(21, 4625, recent.Add(-time.Minute), "guest"),
				logon(22, 4624, recent, "ops")), 2500, "/", 30.0, "/srv/data", 95.5),
			withDisks(withEvents(OKCollection("10.0.0.2", recent, map[string]float64{"cpu.percent": 3, "memory.used_percent": 70}),
				logon(20, 4625, recent, "admin")), 0, "/", 50.0),
			{HostIP: "10.0.0.3", HostPort: 22, Status: storage.StatusHostKeyMismatch, Error: "host key changed", StartedAt: recent},
		}, Alerts: []storage.AlertState{
			{HostIP: "10.0.0.1", HostPort: 22, RuleID: "cpu>20", Type: "cpu", Metric: "cpu.percent", Condition: "> 20%",
				Firing: true, Since: recent, LastNotified: recent, LastValue: 25, UpdatedAt: recent},
			{HostIP: "10.0.0.1", HostPort: 22, RuleID: "memory>50", Type: "memory", Metric: "memory.used_percent", Condition: "> 50%",
				Firing: false, Since: week, LastValue: 40, UpdatedAt: recent},
			{HostIP: "10.0.0.2", HostPort: 22, RuleID: "memory>50", Type: "memory", Metric: "memory.used_percent", Condition: "> 50%",
				Firing: true, Since: recent, LastNotified: recent, LastValue: 70, UpdatedAt: recent},
		}, Notifications: []storage.NotificationRecord{
			{ID: "old-failed", Kind: storage.NotificationAlert, HostIP: "10.0.0.2", HostPort: 22, Recipients: []string{"ops@example.com"},
				Subject: "old", Status: storage.NotificationFailed, Attempts: 5, LastError: "550 gone", CreatedAt: week, UpdatedAt: week},
			{ID: "r-1", Kind: storage.NotificationAlert, HostIP: "10.0.0.1", HostPort: 22, Recipients: []string{"ops@example.com"},
				Subject: "cpu on 10.0.0.1", Status: storage.NotificationSent, Attempts: 1, CreatedAt: recent, SentAt: recent, UpdatedAt: recent},
			{ID: "r-2", Kind: storage.NotificationAlert, HostIP: "10.0.0.2", HostPort: 22, Recipients: []string{"db@example.com"},
				Subject: "memory on 10.0.0.2", Status: storage.NotificationFailed, Attempts: 1,
				LastError: "550 5.1.1 <db@example.com>: mailbox unavailable", CreatedAt: recent, UpdatedAt: recent},
			{ID: "r-3", Kind: storage.NotificationEventLog, HostIP: "10.0.0.1", HostPort: 22, Recipients: []string{"sec@example.com"},
				Subject: "event log of 10.0.0.1", Status: storage.NotificationPending, Attempts: 2,
				LastError: "421 4.7.0 try again later", CreatedAt: recent, UpdatedAt: recent},
		}},
	}
}
