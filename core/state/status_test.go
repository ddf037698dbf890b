package state

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// TestStatusReads: the status pages' reads return what was stored —
// firing alerts only, every recent value of one host grouped by metric,
// and one host's notifications of a kind, newest first.
func TestStatusReads(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{KeepValues: 3})
		ctx := t.Context()
		at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		for _, a := range []struct {
			ip     string
			rule   string
			firing bool
			value  float64
		}{{"10.0.0.2", "down", true, 3}, {"10.0.0.1", "memory>90", true, 95}, {"10.0.0.1", "cpu>80", false, 10}, {"10.0.0.2", "disk>90", true, math.NaN()}} {
			if err := putAlert(ctx, db.db, a.ip, 22, a.rule, alertRow{firing: a.firing, since: at, lastValue: a.value}); err != nil {
				t.Fatal(err)
			}
		}
		firing, err := db.FiringAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range firing {
			got = append(got, a.HostIP+" "+a.RuleID)
		}
		if want := "[10.0.0.1 memory>90 10.0.0.2 disk>90 10.0.0.2 down]"; fmt.Sprint(got) != want {
			t.Errorf("FiringAlerts = %v, want %s", got, want)
		}
		if !math.IsNaN(firing[1].LastValue) || firing[0].LastValue != 95 || !firing[0].Since.Equal(at) {
			t.Errorf("FiringAlerts values: %+v", firing)
		}
		host, err := db.HostFiringAlerts(ctx, "10.0.0.2", 22)
		if err != nil || len(host) != 2 || host[1].RuleID != "down" {
			t.Errorf("HostFiringAlerts = %+v, %v", host, err)
		}

		for i := range 5 {
			values := map[string]float64{"cpu.percent": float64(i), "load.1": float64(10 + i)}
			if err := db.AddValues(ctx, "10.0.0.1", 22, at.Add(time.Duration(i)*time.Minute), values); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddValues(ctx, "10.0.0.1", 2222, at, map[string]float64{"cpu.percent": 99}); err != nil {
			t.Fatal(err)
		}
		series, err := db.HostRecentValues(ctx, "10.0.0.1", 22)
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 2 || series[0].Metric != "cpu.percent" || series[1].Metric != "load.1" {
			t.Fatalf("HostRecentValues metrics = %+v", series)
		}
		for _, s := range series {
			if len(s.Points) != 3 || !s.Points[0].At.Equal(at.Add(2*time.Minute)) || !s.Points[2].At.Equal(at.Add(4*time.Minute)) {
				t.Errorf("%s: %+v; want the newest 3, oldest first", s.Metric, s.Points)
			}
		}
		if s := series[0].Points; s[0].Value != 2 || s[2].Value != 4 {
			t.Errorf("cpu.percent values %+v", s)
		}

		for i, kind := range []string{"eventlog", "alert", "eventlog", "eventlog"} {
			n := notifier.Notification{ID: "n" + string(rune('a'+i)), Kind: kind, To: []string{"ops@example.com"},
				Subject: kind + " " + string(rune('a'+i)), Host: "10.0.0.1:22", CreatedAt: at.Add(time.Duration(i) * time.Minute)}
			if _, err := db.InsertNotification(ctx, n, at); err != nil {
				t.Fatal(err)
			}
		}
		mails, err := db.HostNotifications(ctx, "10.0.0.1", 22, "eventlog", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(mails) != 2 || mails[0].ID != "nd" || mails[1].ID != "nc" || mails[0].Status != StatusPending {
			t.Errorf("HostNotifications = %+v; want nd, nc (newest first, eventlog only, limit 2)", mails)
		}
		if other, err := db.HostNotifications(ctx, "10.0.0.9", 22, "", 10); err != nil || len(other) != 0 {
			t.Errorf("HostNotifications of another host = %+v, %v", other, err)
		}
	})
}
