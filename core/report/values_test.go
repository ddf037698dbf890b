package report

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

func TestCheckValue(t *testing.T) {
	tests := []struct {
		unit    string
		value   float64
		wantErr string // "" when the value is kept
	}{
		{metrics.Percent, 0, ""},
		{metrics.Percent, 100, ""},
		{metrics.Percent, 100 + PercentSlack, ""},
		{metrics.Percent, -PercentSlack, ""},
		{metrics.Percent, 100 + 2*PercentSlack, "outside 0 to 100"},
		{metrics.Percent, 100.5, "outside 0 to 100"},
		{metrics.Percent, -500, "value -500 is outside 0 to 100"},
		{metrics.Percent, 1e308, "value 1e+308 is outside 0 to 100"},
		{metrics.Bytes, 0, ""},
		{metrics.Bytes, 1e15, ""},
		{metrics.Bytes, -1, "value -1 is negative (unit bytes)"},
		{metrics.Seconds, 0, ""},
		{metrics.Seconds, -1, "value -1 is negative (unit seconds)"},
		{metrics.Seconds, -1e-300, "negative"},
		{metrics.Count, 4, ""},
		{metrics.Count, -4, "value -4 is negative (unit count)"},
		{metrics.Ratio, -3.5, ""},
		{metrics.Ratio, 1e308, ""},
		{"furlongs", -7, ""},
		{metrics.Ratio, math.NaN(), "value NaN is not a finite number"},
		{metrics.Bytes, math.Inf(1), "value +Inf is not a finite number"},
		{metrics.Percent, math.Inf(-1), "value -Inf is not a finite number"},
	}
	for _, tc := range tests {
		err := CheckValue(tc.unit, tc.value)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckValue(%q, %v) = %v, want nil", tc.unit, tc.value, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckValue(%q, %v) = %v, want an error containing %q", tc.unit, tc.value, err, tc.wantErr)
		}
	}
}

func TestCheckValueQuotesValuesShort(t *testing.T) {
	err := CheckValue(metrics.Percent, 1.2345678901234567e308)
	if err == nil || len(err.Error()) > 80 || !strings.Contains(err.Error(), "1.23457e+308") {
		t.Errorf("error %v, want the value in 6 digits", err)
	}
}

func TestCheckMetric(t *testing.T) {
	tests := map[string]struct {
		metric   protocol.Metric
		declared string
		ok       bool
		wantErr  string
	}{
		"declared percent in range":  {protocol.Metric{Name: "cpu.percent", Value: 50, Unit: "percent"}, "percent", true, ""},
		"declared percent too high":  {protocol.Metric{Name: "cpu.percent", Value: 1e308, Unit: "percent"}, "percent", true, `metric "cpu.percent": value 1e+308 is outside 0 to 100`},
		"unit differs from declared": {protocol.Metric{Name: "cpu.percent", Value: 1e308, Unit: ""}, "percent", true, `comes in unit "", but its source declares "percent"`},
		"declared ratio":             {protocol.Metric{Name: "load.1", Value: 0.4, Unit: ""}, "", true, ""},
		"undeclared uses own unit":   {protocol.Metric{Name: "app.queue", Value: -1, Unit: "count"}, "", false, `metric "app.queue": value -1 is negative`},
		"undeclared ratio":           {protocol.Metric{Name: "app.delta", Value: -1, Unit: ""}, "", false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckMetric(tc.metric, tc.declared, tc.ok)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckCollectedAt(t *testing.T) {
	requested := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	received := requested.Add(30 * time.Second)
	tests := map[string]struct {
		at   time.Time
		want bool // kept
	}{
		"during the request":      {requested.Add(10 * time.Second), true},
		"skew behind, at bound":   {requested.Add(-MaxClockSkew), true},
		"skew ahead, at bound":    {received.Add(MaxClockSkew), true},
		"behind, past the bound":  {requested.Add(-MaxClockSkew - time.Second), false},
		"ahead, past the bound":   {received.Add(MaxClockSkew + time.Second), false},
		"year 9999":               {time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		"a day old (stale clock)": {requested.Add(-24 * time.Hour), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckCollectedAt(tc.at, requested, received)
			if (err == nil) != tc.want {
				t.Errorf("CheckCollectedAt(%v) = %v, want kept=%v", tc.at, err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "off the core's clock") {
				t.Errorf("error %q does not say what is wrong", err)
			}
		})
	}
}

// builtinUnits declares the built-in metric table's units.
func builtinUnits(metric string) (string, bool) { return metrics.Unit(metric) }

// TestForgedReportValuesAreDropped is the report: the right nonce,
// sealed to the core's key, values no host can have. It goes through Open
// as it did before; Screen then drops every impossible value, times the
// samples at the core's clock, keeps the good samples and says what it did.
func TestForgedReportValuesAreDropped(t *testing.T) {
	id := testkey.New(t)
	forged := fixture(t, id.Recipient().String())
	forged["collected_at"] = "9999-12-31T23:59:59Z"
	metric(forged, 0, 0)["value"] = 1e308 // cpu.percent
	metric(forged, 1, 0)["value"] = -500  // memory.used_percent
	modules(forged)[2].(map[string]any)["metrics"] = append(module(forged, 2)["metrics"].([]any),
		map[string]any{"name": "uptime.seconds", "value": -1, "unit": "seconds"})

	rep, err := Open(id, bytes.NewReader(testkey.Seal(t, id.Recipient(), marshal(t, forged))), testNonce)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	requested := time.Now().UTC()
	received := requested.Add(2 * time.Second)
	errs := Screen(rep, builtinUnits, requested, received)

	if !rep.CollectedAt.Equal(received) {
		t.Errorf("collected_at = %v, want the core's time %v", rep.CollectedAt, received)
	}
	var kept []string
	for _, m := range rep.Modules {
		for _, mt := range m.Metrics {
			kept = append(kept, mt.Name)
		}
	}
	if want := "cpu.count memory.total_bytes load.1"; strings.Join(kept, " ") != want {
		t.Errorf("kept %v, want %s", kept, want)
	}
	var texts []string
	for _, err := range errs {
		texts = append(texts, err.Error())
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"collected_at 9999-12-31T23:59:59Z is more than 10m0s off the core's clock",
		"check the host's clock",
		`metric "cpu.percent": value 1e+308 is outside 0 to 100 (unit percent); the sample is dropped, check module cpu on this host`,
		`metric "memory.used_percent": value -500 is outside 0 to 100`,
		`metric "uptime.seconds": value -1 is negative (unit seconds)`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	if len(errs) != 4 {
		t.Errorf("%d errors, want 4:\n%s", len(errs), all)
	}
}

func TestScreenKeepsAGoodReport(t *testing.T) {
	id := testkey.New(t)
	good := fixture(t, id.Recipient().String())
	at := time.Now().UTC().Truncate(time.Second)
	good["collected_at"] = at.Format(time.RFC3339)
	rep, err := Open(id, bytes.NewReader(testkey.Seal(t, id.Recipient(), marshal(t, good))), testNonce)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	before := len(rep.Modules[0].Metrics) + len(rep.Modules[1].Metrics) + len(rep.Modules[2].Metrics)
	if errs := Screen(rep, builtinUnits, at, at.Add(time.Second)); len(errs) != 0 {
		t.Errorf("Screen of a good report: %v", errs)
	}
	after := len(rep.Modules[0].Metrics) + len(rep.Modules[1].Metrics) + len(rep.Modules[2].Metrics)
	if before != after || !rep.CollectedAt.Equal(at) {
		t.Errorf("a good report changed: %d metrics, then %d; collected_at %v", before, after, rep.CollectedAt)
	}
}
