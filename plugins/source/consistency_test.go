// Package source_test checks that the built-in sources describe exactly
// what the agent's built-in modules produce. It is the one place under
// plugins/ that imports agent/ — in a test only, so the plugins themselves
// still depend on sdk/ alone.
package source_test

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/all"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/source"
)

// builtinSources returns the catalog's sources by name.
func builtinSources(t *testing.T) map[string]source.Source {
	t.Helper()
	sources := map[string]source.Source{}
	for _, b := range plugins.Builtins() {
		if b.Kind != plugins.KindSource {
			continue
		}
		s, ok := b.New("test").(source.Source)
		if !ok {
			t.Fatalf("source %q is a %T", b.Name, b.New("test"))
		}
		sources[b.Name] = s
	}
	return sources
}

// TestMetricsAreTheTable checks that the built-in sources declare every
// metric of the table of built-in metrics (sdk/metrics), each under the
// source of its module, and no other.
func TestMetricsAreTheTable(t *testing.T) {
	var declared, table []string
	for name, s := range builtinSources(t) {
		d, err := s.Describe(context.Background())
		if err != nil {
			t.Fatalf("%s: Describe: %v", name, err)
		}
		for _, m := range d.Metrics {
			declared = append(declared, name+" "+m.Name+" "+m.Unit)
		}
	}
	for _, m := range metrics.Table() {
		table = append(table, m.Module+" "+m.Name+" "+m.Unit)
	}
	slices.Sort(declared)
	slices.Sort(table)
	if !slices.Equal(declared, table) {
		t.Fatalf("declared metrics %q, the table holds %q", declared, table)
	}
}

// TestSourcesMatchTheAgentOnThisHost runs the agent's real built-in
// modules and compares what they yield, name and unit, with what the
// source naming each module declares.
func TestSourcesMatchTheAgentOnThisHost(t *testing.T) {
	ctx := context.Background()
	here := source.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH}
	sources := builtinSources(t)

	// Every source supported here names a module the agent has here, and
	// every module the agent has is some source's.
	byModule := map[string]source.Source{}
	for name, s := range sources {
		m, err := s.Module(ctx, here)
		if err != nil {
			continue
		}
		if m.Builtin == "" {
			t.Errorf("source %s names no built-in module on %s/%s", name, here.OS, here.Arch)
			continue
		}
		byModule[m.Builtin] = s
	}
	var agentModules []string
	for _, mod := range all.Builtin() {
		agentModules = append(agentModules, mod.Name())
	}
	var sourceModules []string
	for name := range byModule {
		sourceModules = append(sourceModules, name)
	}
	slices.Sort(agentModules)
	slices.Sort(sourceModules)
	if !slices.Equal(agentModules, sourceModules) {
		t.Fatalf("on %s/%s the agent has modules %q, the built-in sources name %q", here.OS, here.Arch, agentModules, sourceModules)
	}

	for _, mod := range all.Builtin() {
		t.Run(mod.Name(), func(t *testing.T) {
			d, err := byModule[mod.Name()].Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			declared := map[string]string{}
			for _, m := range d.Metrics {
				declared[m.Name] = m.Unit
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			cfg := module.Config{CPUSample: 50 * time.Millisecond, Settings: everySample[mod.Name()]}
			metrics, err := mod.Collect(cctx, cfg)
			if em, ok := mod.(module.EventModule); ok {
				metrics, err = eventMetrics(cctx, em, cfg)
			}
			if err != nil {
				t.Fatalf("agent module %s: %v", mod.Name(), err)
			}
			yielded := map[string]string{}
			for _, m := range metrics {
				yielded[m.Name] = m.Unit
			}
			for name, unit := range yielded {
				want, ok := declared[name]
				switch {
				case !ok:
					t.Errorf("the agent yields %s, which source %s does not declare", name, d.Name)
				case want != unit:
					t.Errorf("the agent yields %s in %q, source %s declares %q", name, unit, d.Name, want)
				}
			}
			for name := range declared {
				if _, ok := yielded[name]; !ok {
					t.Errorf("source %s declares %s, which the agent does not yield", d.Name, name)
				}
			}
		})
	}
}

// everySample are the settings that make a module yield every metric on
// any host: by default net leaves out loopback and virtual interfaces,
// and a container's only other interface is often a veth.
var everySample = map[string]json.RawMessage{
	"net": json.RawMessage(`{"interfaces": ["*"]}`),
}

// eventMetrics are the metrics an event module yields beside its events.
func eventMetrics(ctx context.Context, em module.EventModule, cfg module.Config) ([]protocol.Metric, error) {
	_, metrics, _, err := em.CollectEvents(ctx, cfg, "")
	return metrics, err
}
