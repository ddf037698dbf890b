package disk

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// collectHere runs the module on this host with settings.
func collectHere(t *testing.T, settings string) map[string]map[string]protocol.Metric {
	t.Helper()
	got, err := New().Collect(context.Background(), module.Config{Settings: json.RawMessage(settings)})
	if err != nil {
		t.Fatal(err)
	}
	byMount := map[string]map[string]protocol.Metric{}
	for _, m := range got {
		if len(m.Labels) != 3 || m.Labels[metrics.LabelFSType] == "" || m.Labels[metrics.LabelDevice] == "" {
			t.Errorf("metric %s has labels %v", m.Name, m.Labels)
		}
		p := m.Labels[metrics.LabelMount]
		if byMount[p] == nil {
			byMount[p] = map[string]protocol.Metric{}
		}
		if _, dup := byMount[p][m.Name]; dup {
			t.Errorf("%s of %q reported twice", m.Name, p)
		}
		byMount[p][m.Name] = m
	}
	return byMount
}

// The root file system (whatever its type: an overlay in a container) as
// statfs(2) and df see it.
func TestRootMatchesStatfsAndDf(t *testing.T) {
	got := collectHere(t, `{"mounts": ["/"]}`)["/"]
	if len(got) < 4 {
		t.Fatalf("root: %v", got)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	size := float64(st.Frsize)
	if got[metrics.DiskTotalBytes].Value != float64(st.Blocks)*size {
		t.Errorf("total = %v, statfs says %v", got[metrics.DiskTotalBytes].Value, float64(st.Blocks)*size)
	}
	const slack = 64 << 20 // what a few milliseconds of this host's work can write
	near := func(name string, want float64) {
		if d := got[name].Value - want; d > slack || d < -slack {
			t.Errorf("%s = %v, statfs says %v", name, got[name].Value, want)
		}
	}
	near(metrics.DiskUsedBytes, float64(st.Blocks-st.Bfree)*size)
	near(metrics.DiskFreeBytes, float64(st.Bavail)*size)
	if _, ok := got[metrics.DiskInodesUsedPercent]; ok != (st.Files > 0) {
		t.Errorf("inodes_used_percent reported %v, the file system has %d inodes", ok, st.Files)
	}

	// df -P: 1024-blocks Used Available Capacity, the capacity rounded up.
	out, err := exec.Command("df", "-P", "-k", "/").Output()
	if err != nil {
		t.Skipf("df: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 6 {
		t.Fatalf("df -P printed %q", out)
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
	if err != nil {
		t.Fatalf("df -P printed %q", out)
	}
	if d := pct - got[metrics.DiskUsedPercent].Value; d < -1 || d > 2 {
		t.Errorf("used_percent = %v, df says %v%%", got[metrics.DiskUsedPercent].Value, pct)
	}
}

// By default: no pseudo file system, every sample labelled, and a device
// once.
func TestDefaultsHere(t *testing.T) {
	got := collectHere(t, "")
	devices := map[string]string{}
	for p, ms := range got {
		m := ms[metrics.DiskTotalBytes]
		if m.Value <= 0 {
			t.Errorf("%q: total %v", p, m.Value)
		}
		if containsFold(DefaultExcludedTypes, m.Labels[metrics.LabelFSType]) {
			t.Errorf("%q is a %s", p, m.Labels[metrics.LabelFSType])
		}
		if len(ms) < 4 {
			t.Errorf("%q: %v", p, ms)
		}
		if d := m.Labels[metrics.LabelDevice]; devices[d] != "" && d != "none" {
			// two points of one device name may be two file systems
			// (tmpfs, nfs), but not for a block device
			if strings.HasPrefix(d, "/dev/") {
				t.Errorf("device %s reported at %q and %q", d, p, devices[d])
			}
		}
		devices[m.Labels[metrics.LabelDevice]] = p
	}
	t.Logf("reported: %d file systems", len(got))
}
