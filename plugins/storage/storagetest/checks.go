package storagetest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// testStatusChecks keeps the CHECK constraints of the schema in step with
// the statuses the SDK defines.
func testStatusChecks(t *testing.T, d Database) {
	open(t, d, "")
	var hostID int64
	if err := d.SQL.QueryRow(`INSERT INTO hosts (ip, port) VALUES ('10.9.9.9', 22) RETURNING id`).Scan(&hostID); err != nil {
		t.Fatal(err)
	}
	for i, st := range storage.Statuses {
		if _, err := d.SQL.Exec(fmt.Sprintf(`INSERT INTO collections (round_id, host_id, status, started_at)
		                                     VALUES ('r%d', %d, '%s', '2026-01-01T00:00:00.000Z')`, i, hostID, st)); err != nil {
			t.Errorf("schema refuses SDK status %q: %v", st, err)
		}
		if _, err := d.SQL.Exec(fmt.Sprintf(`UPDATE hosts SET last_status = '%s' WHERE id = %d`, st, hostID)); err != nil {
			t.Errorf("hosts.last_status refuses SDK status %q: %v", st, err)
		}
	}
	if _, err := d.SQL.Exec(fmt.Sprintf(`INSERT INTO collections (round_id, host_id, status, started_at)
	                                     VALUES ('rz', %d, 'bogus', '2026-01-01T00:00:00.000Z')`, hostID)); err == nil {
		t.Error("schema accepts status 'bogus'")
	}
}

// testNotificationChecks keeps the CHECK constraints of notifications in
// step with the kinds and statuses the SDK defines.
func testNotificationChecks(t *testing.T, d Database) {
	open(t, d, "")
	insert := func(id, kind, status string) error {
		_, err := d.SQL.Exec(fmt.Sprintf(`INSERT INTO notifications (id, kind, recipients, status, created_at, updated_at)
		                                  VALUES ('%s', '%s', '[]', '%s', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`, id, kind, status))
		return err
	}
	for _, kind := range storage.NotificationKinds {
		for _, status := range storage.NotificationStatuses {
			if err := insert(kind+"-"+status, kind, status); err != nil {
				t.Errorf("schema refuses SDK kind %q with status %q: %v", kind, status, err)
			}
		}
	}
	refused := map[string]struct{ kind, status string }{
		"unknown kind":   {"fax", storage.NotificationSent},
		"unknown status": {storage.NotificationAlert, "lost"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			if err := insert(name, tc.kind, tc.status); err == nil {
				t.Errorf("schema accepts kind %q with status %q", tc.kind, tc.status)
			}
		})
	}
}

// testInvalidBatchReason: a refused batch says what is wrong with it, and
// changes nothing.
func testInvalidBatchReason(t *testing.T, d Database) {
	tests := map[string]struct {
		mutate  func(b *storage.Batch)
		wantErr string
	}{
		"empty round id":    {func(b *storage.Batch) { b.RoundID = "" }, "no round id"},
		"blank round id":    {func(b *storage.Batch) { b.RoundID = "  " }, "no round id"},
		"unknown status":    {func(b *storage.Batch) { b.Collections[2].Status = "exploded" }, `host [fd00::3]:22: unknown status "exploded" (want one of ok, unreachable,`},
		"empty status":      {func(b *storage.Batch) { b.Collections[1].Status = "" }, `host 10.0.0.2:2222: unknown status ""`},
		"no host ip":        {func(b *storage.Batch) { b.Collections[1].HostIP = "" }, "collection 1 has no host ip"},
		"port out of range": {func(b *storage.Batch) { b.Collections[0].HostPort = 70000 }, "port 70000 is outside 1-65535"},
		"NaN value": {func(b *storage.Batch) {
			b.Collections[0].Samples[1].Value = math.NaN()
		}, `metric "memory.used_percent" is NaN`},
		"metric without name": {func(b *storage.Batch) { b.Collections[0].Samples[0].Metric = "" }, "a sample has no metric name"},
		"no start time": {func(b *storage.Batch) {
			b.StartedAt = time.Time{}
			b.Collections[2].StartedAt = time.Time{}
		}, "host [fd00::3]:22: collection has no start time"},
	}
	s := open(t, d, "")
	earlier := mixedRound(t)
	earlier.RoundID = "earlier"
	write(t, s, earlier)
	hosts, countsBefore := Dump(t, d.SQL, `SELECT * FROM hosts ORDER BY ip, port`), counts(t, d.SQL)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := mixedRound(t)
			tc.mutate(b)
			err := s.WriteBatch(context.Background(), b)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("WriteBatch error %v; want it to contain %q", err, tc.wantErr)
			}
			if got := counts(t, d.SQL); got != countsBefore {
				t.Errorf("refused batch changed row counts to %s; want %s", got, countsBefore)
			}
			if got := Dump(t, d.SQL, `SELECT * FROM hosts ORDER BY ip, port`); got != hosts {
				t.Errorf("refused batch changed hosts:\n%s\nwant\n%s", got, hosts)
			}
		})
	}
	t.Run("nil batch", func(t *testing.T) {
		if err := s.WriteBatch(context.Background(), nil); err == nil {
			t.Fatal("WriteBatch(nil) succeeded")
		}
	})
}

// testRepeatedMetric: a metric repeated within one collection is stored
// once, with its last value.
func testRepeatedMetric(t *testing.T, d Database) {
	at := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	c := OKCollection("10.0.0.1", at, nil)
	c.Samples = []storage.Sample{
		{Metric: "cpu.percent", Value: 1, Unit: "percent", Time: at},
		{Metric: "load.1", Value: 5, Time: at},
		{Metric: "cpu.percent", Value: 2, Unit: "percent", Time: at},
	}
	write(t, open(t, d, ""), &storage.Batch{RoundID: "r", StartedAt: at, Collections: []storage.Collection{c}})
	if got := Dump(t, d.SQL, `SELECT metric, value FROM samples ORDER BY metric`); got != "metric=cpu.percent value=2 \nmetric=load.1 value=5 \n" {
		t.Errorf("samples = %q; want cpu.percent 2 and load.1 5", got)
	}
}

// testLabelledSamples: one metric on two mounts and two interfaces is
// stored as four rows beside an unlabelled one, readable by label with
// ->> in both engines; the same round again changes nothing; the
// storage describes itself as keeping labels; latest_stats shows the
// fullest file system.
func testLabelledSamples(t *testing.T, d Database) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c := OKCollection("10.0.0.1", at, nil)
	disk := func(mount, device string, v float64) storage.Sample {
		return storage.Sample{Metric: "disk.used_percent", Value: v, Unit: "percent", Time: at,
			Labels: map[string]string{"mount": mount, "device": device, "fstype": "ext4"}}
	}
	rx := func(iface string, v float64) storage.Sample {
		return storage.Sample{Metric: "net.rx_bytes_per_second", Value: v, Unit: "bytes_per_second", Time: at,
			Labels: map[string]string{"interface": iface}}
	}
	c.Samples = []storage.Sample{
		{Metric: "cpu.percent", Value: 3, Unit: "percent", Time: at},
		disk("/", "/dev/sda1", 40), disk("/srv/my data", "/dev/sdb1", 91.5),
		rx("eth0", 1200), rx("eth1", 0),
	}
	s := open(t, d, "")
	desc, err := s.Describe(context.Background())
	if err != nil || !desc.Labels {
		t.Fatalf("Describe = %+v, %v; want Labels set: the storage keeps labels", desc, err)
	}
	b := &storage.Batch{RoundID: "labels", StartedAt: at, Collections: []storage.Collection{c}}
	write(t, s, b)
	const q = `SELECT metric, labels ->> 'mount' AS mount, labels ->> 'interface' AS iface, value
	           FROM samples ORDER BY metric, value`
	const want = "metric=cpu.percent mount=<nil> iface=<nil> value=3 \n" +
		"metric=disk.used_percent mount=/ iface=<nil> value=40 \n" +
		"metric=disk.used_percent mount=/srv/my data iface=<nil> value=91.5 \n" +
		"metric=net.rx_bytes_per_second mount=<nil> iface=eth1 value=0 \n" +
		"metric=net.rx_bytes_per_second mount=<nil> iface=eth0 value=1200 \n"
	if got := Dump(t, d.SQL, q); got != want {
		t.Fatalf("labelled samples:\n%s\nwant\n%s", got, want)
	}
	write(t, s, b)
	if got := Dump(t, d.SQL, q); got != want {
		t.Errorf("after the same round again:\n%s\nwant\n%s", got, want)
	}
	if got := Dump(t, d.SQL, `SELECT cpu_percent, disk_used_percent_max FROM latest_stats`); got != "cpu_percent=3 disk_used_percent_max=91.5 \n" {
		t.Errorf("latest_stats = %s; want cpu 3 and the fullest file system, 91.5", got)
	}
}
