package state

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// sameState reports whether two alert states are equal, NaN LastValues
// included.
func sameState(a, b alert.State) bool {
	if math.IsNaN(a.LastValue) && math.IsNaN(b.LastValue) {
		a.LastValue, b.LastValue = 0, 0
	}
	return a.Firing == b.Firing && a.Since.Equal(b.Since) && a.LastNotified.Equal(b.LastNotified) &&
		a.LastValue == b.LastValue && a.Streak == b.Streak
}

// TestPrefetchAlerts: after PrefetchAlerts, Get answers a prefetched
// host's rules from memory — what was stored before, nothing another
// handle writes after, a rule never stored is not found — even with the
// database gone; the DB's own Put and CommitRound are seen, a refused
// CommitRound is not; a host not prefetched is read from the database
// as before; a second call reads afresh.
func TestPrefetchAlerts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		target := e.target(t)
		round, other := e.open(t, target, Options{}), e.open(t, target, Options{})
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		h1, h2, h3, h4 := HostKey{"10.0.0.1", 22}, HostKey{"10.0.0.2", 2222}, HostKey{"10.0.0.3", 22}, HostKey{"10.0.0.4", 22}
		firing := alert.State{Firing: true, Since: now, LastNotified: now, LastValue: 95}
		quiet := alert.State{LastValue: math.NaN(), Streak: 2, Since: now}
		mustDo(t, other.CommitRound(ctx, nil, []alert.Update{
			{HostIP: h1.IP, HostPort: h1.Port, RuleID: "cpu>90", State: firing},
			{HostIP: h1.IP, HostPort: h1.Port, RuleID: alert.DownRuleID, State: quiet},
			{HostIP: h2.IP, HostPort: h2.Port, RuleID: "cpu>90", State: quiet},
			{HostIP: "10.0.0.2", HostPort: 22, RuleID: "cpu>90", State: firing}, // another port: another host
		}, nil))
		mustDo(t, round.PrefetchAlerts(ctx, []HostKey{h1, h2, h3, h1}))

		// Another handle's writes after the prefetch are not seen.
		later := alert.State{Firing: true, Since: now.Add(time.Hour), LastValue: 1}
		mustDo(t, other.Put(ctx, h1.IP, h1.Port, "cpu>90", later))
		mustDo(t, other.Put(ctx, h3.IP, h3.Port, "cpu>90", later))
		mustDo(t, other.Put(ctx, h4.IP, h4.Port, "cpu>90", later))

		// The round's own writes are.
		mustDo(t, round.Put(ctx, h2.IP, h2.Port, "disk>90", firing))
		mustDo(t, round.CommitRound(ctx, nil, []alert.Update{{HostIP: h3.IP, HostPort: h3.Port, RuleID: "load>4", State: quiet}}, nil))
		noRecipient := Queued{N: notifier.Notification{ID: "x", Kind: "alert", Subject: "s", Body: "b", CreatedAt: now}, DueAt: now}
		if err := round.CommitRound(ctx, []Queued{noRecipient}, []alert.Update{{HostIP: h2.IP, HostPort: h2.Port, RuleID: "cpu>90", State: later}}, nil); err == nil {
			t.Fatal("CommitRound of a mail without recipient succeeded")
		}

		type want struct {
			host  HostKey
			rule  string
			found bool
			s     alert.State
		}
		wants := []want{
			{h1, "cpu>90", true, firing}, // not the other handle's later state
			{h1, alert.DownRuleID, true, quiet},
			{h1, "disk>90", false, alert.State{}},
			{h2, "cpu>90", true, quiet}, // not the refused commit's
			{h2, "disk>90", true, firing},
			{h3, "cpu>90", false, alert.State{}}, // stored by the other handle after the prefetch
			{h3, "load>4", true, quiet},
		}
		check := func(when string, wants []want) {
			t.Helper()
			for _, w := range wants {
				s, found, err := round.Get(ctx, w.host.IP, w.host.Port, w.rule)
				if err != nil || found != w.found || (found && !sameState(s, w.s)) {
					t.Errorf("%s: Get(%v, %s) = %+v, %v, %v; want %+v, %v", when, w.host, w.rule, s, found, err, w.s, w.found)
				}
			}
		}
		check("prefetched", wants)
		check("not prefetched", []want{{h4, "cpu>90", true, later}})

		// A second call reads afresh.
		mustDo(t, round.PrefetchAlerts(ctx, []HostKey{h1}))
		check("prefetched again", []want{{h1, "cpu>90", true, later}, {h3, "cpu>90", false, alert.State{}}})

		// Prefetched hosts need no database at all.
		if err := round.db.raw.Close(); err != nil {
			t.Fatal(err)
		}
		check("database closed", wants[1:])
		if _, _, err := round.Get(ctx, h4.IP, h4.Port, "cpu>90"); err == nil {
			t.Error("Get of a host not prefetched answered without its database")
		}
	})
}

// TestPrefetchAlertsInBatches: more hosts than one query names are all
// read; an invalid host or a failing read keeps none of the call's hosts;
// a host with a state that cannot be read is not kept, so that its Get
// reports the error.
func TestPrefetchAlertsInBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		target := e.target(t)
		round, other := e.open(t, target, Options{}), e.open(t, target, Options{})
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		hosts := make([]HostKey, 2*hostsPerStatement+3)
		var updates []alert.Update
		for i := range hosts {
			hosts[i] = HostKey{IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), Port: 22}
			if i%3 == 0 {
				updates = append(updates, alert.Update{HostIP: hosts[i].IP, HostPort: 22, RuleID: "cpu>90", State: alert.State{Firing: true, Since: now, LastValue: float64(i)}})
			}
		}
		mustDo(t, other.CommitRound(ctx, nil, updates, nil))
		bad := HostKey{IP: "10.2.0.1", Port: 22}
		if _, err := other.db.Exec(`INSERT INTO alert_state (host_ip, host_port, rule_id, firing, since, updated_at) VALUES (?, 22, 'cpu>90', 1, 'not a time', 'x')`, bad.IP); err != nil {
			t.Fatal(err)
		}

		if err := round.PrefetchAlerts(ctx, []HostKey{hosts[0], {IP: "", Port: 22}}); err == nil {
			t.Fatal("PrefetchAlerts of a host without IP succeeded")
		}
		mustDo(t, other.Put(ctx, hosts[0].IP, 22, "cpu>90", alert.State{LastValue: -1}))
		if s, _, err := round.Get(ctx, hosts[0].IP, 22, "cpu>90"); err != nil || s.LastValue != -1 {
			t.Fatalf("after a refused prefetch Get = %+v, %v; want the state in the database", s, err)
		}
		mustDo(t, other.Put(ctx, hosts[0].IP, 22, "cpu>90", updates[0].State))

		mustDo(t, round.PrefetchAlerts(ctx, append(hosts, bad)))
		mustDo(t, other.CommitRound(ctx, nil, []alert.Update{
			{HostIP: hosts[1].IP, HostPort: 22, RuleID: "cpu>90", State: alert.State{LastValue: -1}},
			{HostIP: hosts[len(hosts)-1].IP, HostPort: 22, RuleID: "cpu>90", State: alert.State{LastValue: -1}},
		}, nil)) // not seen: both hosts were prefetched without states
		for i, h := range hosts {
			s, found, err := round.Get(ctx, h.IP, h.Port, "cpu>90")
			if err != nil || found != (i%3 == 0) || (found && s.LastValue != float64(i)) {
				t.Fatalf("Get of host %d (%v) = %+v, %v, %v", i, h, s, found, err)
			}
		}
		if _, _, err := round.Get(ctx, bad.IP, bad.Port, "cpu>90"); err == nil {
			t.Error("Get of a state whose time does not parse succeeded")
		}

		mustDo(t, round.Close())
		late := HostKey{IP: "10.3.0.1", Port: 22}
		if err := round.PrefetchAlerts(ctx, []HostKey{late}); err == nil {
			t.Fatal("PrefetchAlerts on a closed database succeeded")
		}
		if _, kept := round.alerts.hosts[late]; kept {
			t.Error("a host of a failed prefetch was kept")
		}
	})
}
