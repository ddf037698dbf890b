package remote

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// forge seals rep to id the way an agent would: a report a host can send
// that answers the request (its nonce) and passes Open.
func forge(t *testing.T, id *age.X25519Identity, rep protocol.Report) []byte {
	t.Helper()
	plain, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return testkey.Seal(t, id.Recipient(), plain)
}

// countPlanner has one source, "raw", that decodes "name=value" output
// (unit count) and declares raw.queue_depth in count.
type countPlanner struct{ decodingPlanner }

func (countPlanner) Unit(metric string) (string, bool) {
	if metric == "raw.queue_depth" {
		return "count", true
	}
	return "", false
}

func TestAcceptDropsImpossibleValues(t *testing.T) {
	id := testkey.New(t)
	const nonce = "the-nonce-of-this-request"
	forged := protocol.Report{Version: protocol.Version, Nonce: nonce, Recipient: id.Recipient().String(),
		AgentVersion: "v1", Hostname: "forger", OS: "linux", Arch: "amd64",
		CollectedAt: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		Modules: []protocol.ModuleResult{
			{Name: "cpu", Metrics: []protocol.Metric{{Name: "cpu.percent", Value: 1e308, Unit: "percent"}, {Name: "cpu.count", Value: 4, Unit: "count"}}},
			{Name: "memory", Metrics: []protocol.Metric{{Name: "memory.used_percent", Value: -500, Unit: "percent"}}},
			{Name: "uptime", Metrics: []protocol.Metric{{Name: "uptime.seconds", Value: -1, Unit: "seconds"}}},
			{Name: "swap", Error: "no swap counters"},
			{Name: "raw", Raw: "raw.queue_depth=-3"},
		}}
	c := &Collector{s: Settings{Identity: id, Sources: countPlanner{}}}
	col := storage.Collection{HostIP: "10.0.0.9", HostPort: 22, StartedAt: time.Now().UTC()}

	rep, ok := c.accept(context.Background(), &col, transport.Platform{OS: "linux", Arch: "amd64"}, forge(t, id, forged), nonce)
	if !ok || rep == nil {
		t.Fatalf("report refused: %s %s", col.Status, col.Error)
	}
	if col.Status != storage.StatusOK || col.Hostname != "forger" {
		t.Errorf("status %s, hostname %q; want ok with the host's facts", col.Status, col.Hostname)
	}
	if len(col.Samples) != 1 || col.Samples[0].Metric != "cpu.count" || col.Samples[0].Value != 4 {
		t.Fatalf("samples %+v, want only cpu.count", col.Samples)
	}
	if at := col.Samples[0].Time; at.Before(col.StartedAt) || at.After(time.Now()) {
		t.Errorf("sample time %v, want the core's time", at)
	}
	for _, want := range []string{
		"module errors: swap: no swap counters",
		"rejected values: collected_at 9999-12-31T23:59:59Z is more than 10m0s off the core's clock",
		`metric "cpu.percent": value 1e+308 is outside 0 to 100`,
		`metric "memory.used_percent": value -500`,
		`metric "uptime.seconds": value -1 is negative`,
		`metric "raw.queue_depth": value -3 is negative (unit count); the sample is dropped, check module raw on this host`,
	} {
		if !strings.Contains(col.Error, want) {
			t.Errorf("error lacks %q:\n%s", want, col.Error)
		}
	}
	if len(col.Error) > maxErrorText+len("…") {
		t.Errorf("error is %d bytes, more than the cap", len(col.Error))
	}
}

// The decoder's declared units come from the source plugins; without them
// the built-in table still applies.
func TestDeclaredUnit(t *testing.T) {
	with := &Collector{s: Settings{Sources: countPlanner{}}}
	without := &Collector{}
	tests := []struct {
		c      *Collector
		metric string
		unit   string
		ok     bool
	}{
		{with, "raw.queue_depth", "count", true},
		{with, "uptime.seconds", "seconds", true},
		{without, "memory.total_bytes", "bytes", true},
		{without, "load.1", "", true},
		{without, "raw.queue_depth", "", false},
	}
	for _, tc := range tests {
		if unit, ok := tc.c.declaredUnit(tc.metric); unit != tc.unit || ok != tc.ok {
			t.Errorf("declaredUnit(%s) = %q, %v; want %q, %v", tc.metric, unit, ok, tc.unit, tc.ok)
		}
	}
}
