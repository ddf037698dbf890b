package net

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

func TestParseSettings(t *testing.T) {
	tests := map[string]struct {
		raw     string
		want    Settings
		wantErr string
	}{
		"no settings":     {raw: ""},
		"null":            {raw: " null "},
		"empty object":    {raw: "{}"},
		"all settings":    {raw: `{"interfaces": ["eth*", "eno1", "Ethernet 2"], "include_virtual": true}`, want: Settings{Interfaces: []string{"eth*", "eno1", "Ethernet 2"}, IncludeVirtual: true}},
		"classes":         {raw: `{"interfaces": ["en[a-z]?", "wl[^x]*", "a\\*b"]}`, want: Settings{Interfaces: []string{"en[a-z]?", "wl[^x]*", `a\*b`}}},
		"include virtual": {raw: `{"include_virtual": true}`, want: Settings{IncludeVirtual: true}},
		"most patterns":   {raw: `{"interfaces": [` + strings.TrimSuffix(strings.Repeat(`"e*",`, MaxInterfaces), ",") + `]}`, want: Settings{Interfaces: slices.Repeat([]string{"e*"}, MaxInterfaces)}},
		"not json":        {raw: `{"interfaces": `, wantErr: "net settings are not valid"},
		"wrong type":      {raw: `{"interfaces": "eth0"}`, wantErr: "net settings are not valid"},
		"bool as string":  {raw: `{"include_virtual": "yes"}`, wantErr: "net settings are not valid"},
		"unknown key":     {raw: `{"interface": ["eth0"]}`, wantErr: `unknown field "interface"`},
		"two values":      {raw: `{} {}`, wantErr: "more than one JSON value"},
		"bad pattern":     {raw: `{"interfaces": ["eth["]}`, wantErr: `net interfaces pattern "eth[" is malformed`},
		"bad range":       {raw: `{"interfaces": ["eth0", "[z-a"]}`, wantErr: `pattern "[z-a" is malformed`},
		"bad escape":      {raw: `{"interfaces": ["eth\\"]}`, wantErr: `is malformed`},
		"empty name":      {raw: `{"interfaces": [""]}`, wantErr: "net interfaces holds an empty name"},
		"blank name":      {raw: `{"interfaces": ["  "]}`, wantErr: "empty name"},
		"control":         {raw: `{"interfaces": ["eth\u00070"]}`, wantErr: "invalid or control characters"},
		"long name":       {raw: `{"interfaces": ["` + strings.Repeat("a", MaxPatternBytes+1) + `"]}`, wantErr: "257 bytes long: at most 256"},
		"too many":        {raw: `{"interfaces": [` + strings.TrimSuffix(strings.Repeat(`"e*",`, MaxInterfaces+1), ",") + `]}`, wantErr: "65 names or patterns: at most 64"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSettings(json.RawMessage(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSettings error = %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "net ") {
					t.Errorf("error %q does not name the module", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSettings: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseSettings = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// host is a host with a physical interface, loopback, a bridge, a veth,
// and a physical interface listed twice.
var host = []Interface{
	{Name: "lo", Loopback: true, Virtual: true, Counters: Counters{RxBytes: 1, TxBytes: 1}},
	{Name: "eth0", Counters: Counters{RxBytes: 100, RxPackets: 10, RxErrors: 1, RxDrops: 2, TxBytes: 200, TxPackets: 20, TxErrors: 3, TxDrops: 4}},
	{Name: "docker0", Virtual: true},
	{Name: "veth1a2b", Virtual: true},
	{Name: "eno1"},
	{Name: "eth0", Counters: Counters{RxBytes: 999}},
}

func TestSelection(t *testing.T) {
	tests := map[string]struct {
		settings string
		want     []string
	}{
		"default: physical only":         {settings: "", want: []string{"eth0", "eno1"}},
		"include_virtual: not loopback":  {settings: `{"include_virtual": true}`, want: []string{"eth0", "docker0", "veth1a2b", "eno1"}},
		"pattern":                        {settings: `{"interfaces": ["eth*"]}`, want: []string{"eth0"}},
		"loopback by name":               {settings: `{"interfaces": ["lo"]}`, want: []string{"lo"}},
		"virtual by pattern":             {settings: `{"interfaces": ["veth*", "docker?"]}`, want: []string{"docker0", "veth1a2b"}},
		"everything":                     {settings: `{"interfaces": ["*"]}`, want: []string{"lo", "eth0", "docker0", "veth1a2b", "eno1"}},
		"class":                          {settings: `{"interfaces": ["e[nt]*"], "include_virtual": true}`, want: []string{"eth0", "eno1"}},
		"no match: nothing and no error": {settings: `{"interfaces": ["wlan0"]}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := NewWithReader(fakeReader{ifcs: host}).Collect(context.Background(), module.Config{Settings: json.RawMessage(tc.settings)})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, m := range got {
				if i%8 == 0 {
					names = append(names, m.Labels[metrics.LabelInterface])
				}
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("interfaces reported %q, want %q", names, tc.want)
			}
		})
	}
}

func TestCollect(t *testing.T) {
	label := map[string]string{metrics.LabelInterface: "eth0"}
	counter := func(name string, v float64, unit string) protocol.Metric {
		return protocol.Metric{Name: name, Value: v, Unit: unit, Labels: label, Counter: true}
	}
	got, err := NewWithReader(fakeReader{ifcs: host}).Collect(context.Background(), module.Config{Settings: json.RawMessage(`{"interfaces": ["eth0"]}`)})
	want := []protocol.Metric{
		counter(metrics.NetRxBytesPerSecond, 100, "bytes_per_second"),
		counter(metrics.NetTxBytesPerSecond, 200, "bytes_per_second"),
		counter(metrics.NetRxPacketsPerSecond, 10, "per_second"),
		counter(metrics.NetTxPacketsPerSecond, 20, "per_second"),
		counter(metrics.NetRxErrorsPerSecond, 1, "per_second"),
		counter(metrics.NetTxErrorsPerSecond, 3, "per_second"),
		counter(metrics.NetRxDropsPerSecond, 2, "per_second"),
		counter(metrics.NetTxDropsPerSecond, 4, "per_second"),
	}
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Collect =\n%+v\nwant\n%+v", got, want)
	}
	// Every metric of the table's net module, and no other.
	var names, table []string
	for _, m := range got {
		names = append(names, m.Name)
	}
	for _, m := range metrics.Of(Name) {
		table = append(table, m.Name)
		if !m.Counter || !slices.Equal(m.Labels, []string{metrics.LabelInterface}) {
			t.Errorf("table metric %s is not a counter labelled by interface", m.Name)
		}
	}
	slices.Sort(names)
	slices.Sort(table)
	if !slices.Equal(names, table) {
		t.Errorf("Collect yields %q, the table declares %q", names, table)
	}
	// Each sample has its own labels map.
	got[0].Labels[metrics.LabelInterface] = "changed"
	if got[1].Labels[metrics.LabelInterface] != "eth0" {
		t.Error("the samples share one labels map")
	}
}

func TestCollectErrors(t *testing.T) {
	r := &fakeReader{ifcs: host}
	_, err := NewWithReader(r).Collect(context.Background(), module.Config{Settings: json.RawMessage(`{"interfaces": ["["]}`)})
	if err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("bad settings: error %v", err)
	}
	_, err = NewWithReader(fakeReader{err: errors.New("no /proc/net/dev")}).Collect(context.Background(), module.Config{})
	if err == nil || err.Error() != "read network interfaces: no /proc/net/dev" {
		t.Fatalf("read error: %v", err)
	}
	got, err := NewWithReader(fakeReader{}).Collect(context.Background(), module.Config{})
	if err != nil || len(got) != 0 {
		t.Fatalf("no interfaces: %v, %v; want nothing and no error", got, err)
	}
	if n := NewWithReader(fakeReader{}).Name(); n != "net" {
		t.Fatalf("Name() = %q", n)
	}
}

type fakeReader struct {
	ifcs []Interface
	err  error
}

func (r fakeReader) Read(context.Context) ([]Interface, error) { return slices.Clone(r.ifcs), r.err }
