package net

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// fakeSys builds a sysfs under a temporary directory: flags per interface
// under class/net, and the virtual ones under devices/virtual/net.
func fakeSys(t *testing.T, flags map[string]string, virtual ...string) string {
	t.Helper()
	root := t.TempDir()
	for name, f := range flags {
		dir := filepath.Join(root, "class", "net", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "flags"), []byte(f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range virtual {
		if err := os.MkdirAll(filepath.Join(root, "devices", "virtual", "net", name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestHostReaderClassifies(t *testing.T) {
	sys := fakeSys(t, map[string]string{"lo": "0x9", "eth0": "0x1003", "docker0": "0x1003", "vethab12cd3": "0x1003"}, "lo", "docker0", "vethab12cd3")
	got, err := hostReader{netDev: filepath.Join("testdata", "netdev_typical.txt"), sysRoot: sys}.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type kind struct{ loopback, virtual bool }
	want := map[string]kind{"lo": {true, true}, "eth0": {false, false}, "docker0": {false, true}, "vethab12cd3": {false, true}}
	for _, ifc := range got {
		if k := (kind{ifc.Loopback, ifc.Virtual}); k != want[ifc.Name] {
			t.Errorf("%s: loopback, virtual = %v, want %v", ifc.Name, k, want[ifc.Name])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read %d interfaces, want %d", len(got), len(want))
	}
}

func TestClassify(t *testing.T) {
	sys := fakeSys(t, map[string]string{"lo": "0x9", "lo2": "0x49", "eth0": "0x1003", "bad": "zz"}, "wg0", "lo2")
	tests := map[string]struct{ loopback, virtual bool }{
		"lo":   {true, true},   // by name and flags
		"lo2":  {true, true},   // by flags
		"eth0": {false, false}, // a device behind it
		"wg0":  {false, true},  // no flags file, but virtual
		"bad":  {false, false}, // unreadable flags
		"gone": {false, false}, // nothing in sysfs
	}
	for name, want := range tests {
		l, v := classify(sys, name)
		if l != want.loopback || v != want.virtual {
			t.Errorf("classify(%q) = %v, %v; want %v, %v", name, l, v, want.loopback, want.virtual)
		}
	}
	if l, v := classify(filepath.Join(sys, "absent"), "lo"); !l || !v {
		t.Error(`without sysfs "lo" is not loopback`)
	}
}

func TestHostReaderErrors(t *testing.T) {
	if _, err := (hostReader{netDev: filepath.Join("testdata", "absent")}).Read(context.Background()); err == nil {
		t.Fatal("no error for a missing file")
	}
	_, err := hostReader{netDev: filepath.Join("testdata", "netdev_missing.txt")}.Read(context.Background())
	if err == nil {
		t.Fatal("no error for a truncated line")
	}
	t.Log(err)
}

// On this host: the module reports lo when asked by name, its counters
// agree with /proc/net/dev and do not go down between two reads.
func TestLoopbackOnThisHost(t *testing.T) {
	if _, err := os.Stat(netDevPath); err != nil {
		t.Skip(err)
	}
	cfg := module.Config{Settings: json.RawMessage(`{"interfaces": ["lo"]}`)}
	read := func() map[string]float64 {
		t.Helper()
		got, err := New().Collect(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, m := range got {
			if m.Labels[metrics.LabelInterface] != "lo" || !m.Counter {
				t.Fatalf("unexpected sample %+v", m)
			}
			out[m.Name] = m.Value
		}
		if len(out) != 8 || len(got) != 8 {
			t.Fatalf("lo: %d samples %v, want the 8 counters", len(got), got)
		}
		return out
	}
	first := read()

	b, err := os.ReadFile(netDevPath)
	if err != nil {
		t.Fatal(err)
	}
	ifcs, err := parseNetDev(b)
	if err != nil {
		t.Fatal(err)
	}
	var lo *Interface
	for i := range ifcs {
		if ifcs[i].Name == "lo" {
			lo = &ifcs[i]
		}
	}
	if lo == nil {
		t.Skip("no lo in " + netDevPath)
	}
	if rx := first[metrics.NetRxPacketsPerSecond]; rx > float64(lo.RxPackets) {
		t.Errorf("module read %v packets received on lo, then /proc/net/dev %d", rx, lo.RxPackets)
	}

	second := read()
	for name, v := range first {
		if second[name] < v {
			t.Errorf("%s went down from %v to %v", name, v, second[name])
		}
	}
	if l, v := classify("/sys", "lo"); !l || !v {
		t.Errorf("lo on this host: loopback %v, virtual %v", l, v)
	}

	// The default leaves lo out on every host.
	got, err := New().Collect(context.Background(), module.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if m.Labels[metrics.LabelInterface] == "lo" {
			t.Fatalf("default settings report lo: %+v", m)
		}
	}
}
