package overlay

import "testing"

// TestHoldsOnLabels: a condition reads the labels of the sample it is
// decided on; a label the sample lacks leaves it undecided, as does a
// rule not decided on a labelled sample.
func TestHoldsOnLabels(t *testing.T) {
	ov, diags := load(t, nil, "testdata/labels.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	disk, lo := ov.Alerts[0], ov.Alerts[1]
	if m := disk.Metrics(); len(m) != 1 || m[0] != "disk.used_percent" {
		t.Errorf("disk_full names %v, want disk.used_percent", m)
	}
	full := map[string]float64{"disk.used_percent": 95, "net.rx_errors_per_second": 3}
	tests := []struct {
		name      string
		al        Alert
		labels    map[string]string
		holds, ok bool
	}{
		{"/var full", disk, map[string]string{"mount": "/var"}, true, true},
		{"/boot left out", disk, map[string]string{"mount": "/boot"}, false, true},
		{"no mount label", disk, map[string]string{"interface": "eth0"}, false, false},
		{"not on a labelled sample", disk, nil, false, false},
		{"lo errors", lo, map[string]string{"interface": "lo"}, true, true},
		{"eth0 is not lo", lo, map[string]string{"interface": "eth0"}, false, true},
	}
	for _, tt := range tests {
		holds, ok := tt.al.Holds(Facts{IP: "10.0.0.7", Labels: tt.labels}, full)
		if holds != tt.holds || ok != tt.ok {
			t.Errorf("%s: Holds = %v, %v; want %v, %v", tt.name, holds, ok, tt.holds, tt.ok)
		}
	}
}
