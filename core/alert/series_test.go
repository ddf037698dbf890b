package alert

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// mounts are disk.used_percent samples of a round, by mount point.
func mounts(used map[string]float64) []storage.Sample {
	var out []storage.Sample
	for _, m := range slices.Sorted(maps.Keys(used)) {
		out = append(out, storage.Sample{Metric: "disk.used_percent", Value: used[m], Unit: "percent",
			Labels: map[string]string{"mount": m, "device": "/dev/" + strings.Trim(m, "/") + "x", "fstype": "ext4"}})
	}
	return append(out, storage.Sample{Metric: "cpu.percent", Value: 5, Unit: "percent"})
}

func sampleMap(samples []storage.Sample) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		out[storage.FoldedName(s.Metric, s.Labels)] = s.Value
	}
	return out
}

// evaluateRound runs one round of rules on web: ForSeries, Retired for
// the rules firing before, Evaluate, Commit.
func evaluateRound(t *testing.T, store *MemoryStore, at time.Time, rules []Rule, samples []storage.Sample) Transitions {
	t.Helper()
	ctx := context.Background()
	expanded := ForSeries(rules, samples)
	firing := map[string]State{}
	for k, s := range store.states {
		if k.ip == web.IP && s.Firing {
			firing[k.name] = s
		}
	}
	tr := Retired(at, web, firing, expanded, nil)
	got, err := Evaluate(ctx, at, web, expanded, sampleMap(samples), store, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tr.Merge(got)
	if err := tr.Commit(ctx, store); err != nil {
		t.Fatal(err)
	}
	return tr
}

func changes(tr Transitions) []string {
	var out []string
	for _, c := range tr.Changes {
		out = append(out, c.Kind.String()+" "+headline(c, web))
	}
	slices.Sort(out)
	return out
}

// TestDiskRuleByMount follows <alert type="disk" limit="90%"/> over
// rounds: each file system has its own state, the mail names the mount,
// a round without disk samples (the source failed) keeps the states, an
// unmounted file system that fired resolves as gone, and an expression
// rule reads the mount as labels.mount.
func TestDiskRuleByMount(t *testing.T) {
	rules, diags := Compile([]config.Alert{{Type: "disk", Limit: "90%", Pos: at(3)}},
		map[string]Type{"disk": {Name: "disk", Metric: "disk.used_percent", Unit: "percent"}})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	store := NewMemoryStore()
	rounds := []struct {
		name    string
		samples []storage.Sample
		want    []string
	}{
		{"/var fills", mounts(map[string]float64{"/": 40, "/var": 93.5}), []string{"FIRING disk /var 93.5% > 90%"}},
		{"/data fills too", mounts(map[string]float64{"/": 40, "/var": 95, "/data": 99}), []string{"FIRING disk /data 99.0% > 90%"}},
		{"the disk source failed", []storage.Sample{{Metric: "cpu.percent", Value: 5}}, nil},
		{"/var cleaned, /data unmounted", mounts(map[string]float64{"/": 40, "/var": 50}),
			[]string{"RESOLVED disk /var 50.0% (was > 90%)", "RESOLVED disk>90 /data (" + GoneText + ")"}},
	}
	for i, r := range rounds {
		tr := evaluateRound(t, store, t0.Add(time.Duration(i)*time.Minute), rules, r.samples)
		if got := changes(tr); !reflect.DeepEqual(got, r.want) {
			t.Fatalf("%s: %q, want %q", r.name, got, r.want)
		}
		if r.name == "/var fills" {
			msg, _ := Compose(web, tr, nil, t0)
			if !strings.Contains(msg.Subject, "disk /var 93.5% > 90%") || !strings.Contains(msg.Body, "Labels:   mount=/var device=/dev/varx fstype=ext4") {
				t.Errorf("mail does not name the mount:\n%s\n%s", msg.Subject, msg.Body)
			}
			if id := tr.Updates[0].RuleID; id != `disk>90{device="/dev/varx",fstype="ext4",mount="/var"}` && !strings.Contains(id, `mount="/"`) {
				t.Errorf("rule id %q", id)
			}
		}
	}
	// The rule removed while /var fires again: it resolves as removed,
	// naming the mount.
	evaluateRound(t, store, t0.Add(time.Hour), rules, mounts(map[string]float64{"/var": 97}))
	tr := evaluateRound(t, store, t0.Add(2*time.Hour), nil, mounts(map[string]float64{"/var": 97}))
	if got := changes(tr); !reflect.DeepEqual(got, []string{"RESOLVED disk>90 /var (" + RetiredText + ")"}) {
		t.Errorf("rule removed: %q", got)
	}
}

// listed is an expression condition on labelled samples: it holds when
// disk.used_percent is over 80 on any mount but /boot.
type listed struct{}

func (listed) Metrics() []string { return []string{"cpu.percent", "disk.used_percent"} }
func (listed) Holds(h HostInfo, samples map[string]float64) (bool, bool) {
	v, ok := samples["disk.used_percent"]
	return ok && v > 80 && h.Labels["mount"] != "/boot", ok
}

func TestExpressionRuleBySeries(t *testing.T) {
	rule := Rule{ID: "full#1", Type: "full", Metric: "cpu.percent", Cond: listed{}, LimitText: "disk.used_percent > 80"}
	store := NewMemoryStore()
	tr := evaluateRound(t, store, t0, []Rule{rule}, mounts(map[string]float64{"/": 85, "/boot": 95, "/var": 10}))
	if got := changes(tr); !reflect.DeepEqual(got, []string{"FIRING full / 5.00 disk.used_percent > 80"}) {
		t.Errorf("changes %q; want / alone (/boot left out by the condition)", got)
	}
}

func TestParseLabels(t *testing.T) {
	for _, labels := range []map[string]string{
		{"mount": "/"}, {"mount": `C:\`, "device": `\\?\Volume{x}`}, {"interface": `we"ird,=}`},
	} {
		id := "disk>90" + labelSuffix(labels)
		if base, ok := baseID(id); !ok || base != "disk>90" {
			t.Errorf("baseID(%s) = %q, %v", id, base, ok)
		}
		if got := retiredRule(id, GoneText); !reflect.DeepEqual(got.Labels, labels) || got.Type != "disk>90" {
			t.Errorf("retiredRule(%s) = %+v, want labels %v", id, got, labels)
		}
	}
}
