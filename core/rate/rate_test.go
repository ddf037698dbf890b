package rate

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

var (
	boot = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	t0   = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
)

func TestPer(t *testing.T) {
	tests := map[string]struct {
		prev, cur Counter
		want      float64
		ok        bool
	}{
		"a minute of traffic":         {Counter{1000, t0, boot}, Counter{7000, t0.Add(time.Minute), boot}, 100, true},
		"no traffic":                  {Counter{1000, t0, boot}, Counter{1000, t0.Add(time.Minute), boot}, 0, true},
		"boot time a second off":      {Counter{0, t0, boot}, Counter{30, t0.Add(30 * time.Second), boot.Add(time.Second)}, 1, true},
		"agent could not tell boot":   {Counter{0, t0, time.Time{}}, Counter{60, t0.Add(time.Minute), boot}, 1, true},
		"counter went down (wrap)":    {Counter{1 << 32, t0, boot}, Counter{10, t0.Add(time.Minute), boot}, 0, false},
		"rebooted, counted past prev": {Counter{100, t0, boot}, Counter{5000, t0.Add(time.Hour), t0.Add(30 * time.Minute)}, 0, false},
		"rebooted, counter lower":     {Counter{5000, t0, boot}, Counter{100, t0.Add(time.Hour), t0.Add(30 * time.Minute)}, 0, false},
		"same time":                   {Counter{0, t0, boot}, Counter{10, t0, boot}, 0, false},
		"clock went back":             {Counter{0, t0, boot}, Counter{10, t0.Add(-time.Second), boot}, 0, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Per(tt.prev, tt.cur)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("Per = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
			if got < 0 {
				t.Fatalf("negative rate %v", got)
			}
		})
	}
}

// report is a round's report of one interface's received bytes, at, on a
// host booted at booted, beside a gauge.
func report(at, booted time.Time, totals map[string]float64) *protocol.Report {
	m := protocol.ModuleResult{Name: "net"}
	for iface, total := range totals {
		m.Metrics = append(m.Metrics, protocol.Metric{Name: "net.rx_bytes_per_second", Value: total, Unit: "bytes_per_second",
			Labels: map[string]string{"interface": iface}, Counter: true})
	}
	return &protocol.Report{CollectedAt: at, BootTime: booted, Modules: []protocol.ModuleResult{
		{Name: "cpu", Metrics: []protocol.Metric{{Name: "cpu.percent", Value: 5, Unit: "percent"}}}, m,
	}}
}

// rates are the rates a report holds after Apply, by interface.
func rates(t *testing.T, rep *protocol.Report) map[string]float64 {
	t.Helper()
	if got := rep.Modules[0].Metrics; len(got) != 1 || got[0].Name != "cpu.percent" {
		t.Fatalf("Apply changed the gauge: %+v", got)
	}
	out := map[string]float64{}
	for _, m := range rep.Modules[1].Metrics {
		if m.Counter {
			t.Errorf("%+v is still a counter", m)
		}
		out[m.Labels["interface"]] = m.Value
	}
	return out
}

// TestApplyAcrossRounds follows one host round by round: the first round
// has no rate, the next ones do, a counter reset and a reboot give none
// (never a negative one) and start over, an interface that goes away is
// forgotten, and the totals survive being kept between rounds as JSON in
// the state (as the core keeps them).
func TestApplyAcrossRounds(t *testing.T) {
	rounds := []struct {
		name   string
		at     time.Time
		booted time.Time
		totals map[string]float64
		want   map[string]float64
	}{
		{"first round", t0, boot, map[string]float64{"eth0": 1000, "eth1": 50}, map[string]float64{}},
		{"a minute later", t0.Add(time.Minute), boot, map[string]float64{"eth0": 61000, "eth1": 50}, map[string]float64{"eth0": 1000, "eth1": 0}},
		{"eth1 reset, eth2 new", t0.Add(2 * time.Minute), boot, map[string]float64{"eth0": 121000, "eth1": 10, "eth2": 5}, map[string]float64{"eth0": 1000}},
		{"after the reset", t0.Add(3 * time.Minute), boot, map[string]float64{"eth0": 181000, "eth1": 610, "eth2": 5}, map[string]float64{"eth0": 1000, "eth1": 10, "eth2": 0}},
		{"rebooted, eth2 gone", t0.Add(63 * time.Minute), t0.Add(4 * time.Minute), map[string]float64{"eth0": 9e9, "eth1": 1}, map[string]float64{}},
		{"after the reboot", t0.Add(64 * time.Minute), t0.Add(4*time.Minute + time.Second), map[string]float64{"eth0": 9e9 + 6000, "eth1": 1, "eth2": 0}, map[string]float64{"eth0": 100, "eth1": 0}},
	}
	var kept map[string]Counter
	for _, r := range rounds {
		rep := report(r.at, r.booted, r.totals)
		next := Apply(kept, rep)
		if got := rates(t, rep); !reflect.DeepEqual(got, r.want) {
			t.Errorf("%s: rates %v, want %v", r.name, got, r.want)
		}
		if len(next) != len(r.totals) {
			t.Errorf("%s: keeps %d totals, want the %d reported", r.name, len(next), len(r.totals))
		}
		kept = roundTrip(t, next)
	}
}

func TestApplyWithoutCounters(t *testing.T) {
	rep := &protocol.Report{CollectedAt: t0, Modules: []protocol.ModuleResult{{Name: "cpu", Metrics: []protocol.Metric{{Name: "cpu.percent", Value: 5}}}}}
	if next := Apply(map[string]Counter{"x": {Total: 1, At: t0}}, rep); next != nil {
		t.Errorf("Apply without counters = %v, want nil (nothing to keep)", next)
	}
	if len(rep.Modules[0].Metrics) != 1 {
		t.Error("Apply removed a gauge")
	}
}

// roundTrip passes totals through JSON, as the state keeps them.
func roundTrip(t *testing.T, totals map[string]Counter) map[string]Counter {
	t.Helper()
	b, err := json.Marshal(totals)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]Counter
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
