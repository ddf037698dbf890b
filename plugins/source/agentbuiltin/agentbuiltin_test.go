package agentbuiltin_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/plugins/source/authlog"
	"github.com/cscs-dev/cscs/plugins/source/cpu"
	"github.com/cscs-dev/cscs/plugins/source/disk"
	"github.com/cscs-dev/cscs/plugins/source/eventlog"
	"github.com/cscs-dev/cscs/plugins/source/load"
	"github.com/cscs-dev/cscs/plugins/source/memory"
	netsource "github.com/cscs-dev/cscs/plugins/source/net"
	"github.com/cscs-dev/cscs/plugins/source/swap"
	"github.com/cscs-dev/cscs/plugins/source/uptime"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

// units are the units source.MetricInfo allows: the table's, rates
// ("bytes_per_second", "per_second") included.
var units = metrics.Units()

// builtin is a built-in source with what its description must hold and
// the platforms it must accept and refuse.
type builtin struct {
	new        func(version string) *agentbuiltin.Source
	events     bool // yields events (and the table's metrics about its reads)
	alertTypes []source.AlertType
	supported  []source.Platform
	refused    []source.Platform
}

// sources are the built-in sources by name.
func sources() map[string]builtin {
	linux := []source.Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}
	darwin := []source.Platform{{OS: "darwin", Arch: "amd64"}, {OS: "darwin", Arch: "arm64"}}
	windows := []source.Platform{{OS: "windows", Arch: "amd64"}, {OS: "windows", Arch: "arm64"}}
	elsewhere := []source.Platform{{OS: "plan9", Arch: "amd64"}, {OS: "freebsd", Arch: "arm64"}}
	everyAgentOS := slices.Concat(linux, darwin, windows)
	alert := func(name, metric string) []source.AlertType {
		return []source.AlertType{{Name: name, Metric: metric}}
	}
	return map[string]builtin{
		"cpu":      {new: cpu.New, alertTypes: alert("cpu", "cpu.percent"), supported: everyAgentOS, refused: elsewhere},
		"memory":   {new: memory.New, alertTypes: alert("memory", "memory.used_percent"), supported: everyAgentOS, refused: elsewhere},
		"swap":     {new: swap.New, alertTypes: alert("swap", "swap.used_percent"), supported: everyAgentOS, refused: elsewhere},
		"uptime":   {new: uptime.New, alertTypes: alert("uptime", "uptime.seconds"), supported: everyAgentOS, refused: elsewhere},
		"disk":     {new: disk.New, alertTypes: alert("disk", "disk.used_percent"), supported: everyAgentOS, refused: elsewhere},
		"load":     {new: load.New, alertTypes: alert("load", "load.1"), supported: slices.Concat(linux, darwin), refused: slices.Concat(windows, elsewhere)},
		"authlog":  {new: authlog.New, events: true, supported: linux, refused: slices.Concat(darwin, windows, elsewhere)},
		"eventlog": {new: eventlog.New, events: true, supported: windows, refused: slices.Concat(linux, darwin, elsewhere)},
		"net":      {new: netsource.New, supported: everyAgentOS, refused: elsewhere},
	}
}

func TestDescribe(t *testing.T) {
	ctx := context.Background()
	for name, tc := range sources() {
		t.Run(name, func(t *testing.T) {
			d, err := tc.new("1.2.3").Describe(ctx)
			if err != nil {
				t.Fatalf("Describe: %v", err)
			}
			if d.Name != name || d.Version != "1.2.3" {
				t.Errorf("Describe = name %q version %q, want %q %q", d.Name, d.Version, name, "1.2.3")
			}
			if d.YieldsEvents != tc.events || d.Decodes {
				t.Errorf("YieldsEvents %v, Decodes %v; want %v, false: the agent's module yields its data itself", d.YieldsEvents, d.Decodes, tc.events)
			}
			if want := agentbuiltin.Metrics(name); tc.events && !reflect.DeepEqual(d.Metrics, want) {
				t.Errorf("event source declares metrics %+v, want the table's %+v", d.Metrics, want)
			}
			for _, p := range d.Platforms {
				goos, goarch, ok := strings.Cut(p, "/")
				if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
					t.Errorf("platform %q is not os/arch", p)
				}
			}
			var metrics []string
			for _, m := range d.Metrics {
				if !strings.HasPrefix(m.Name, name+".") {
					t.Errorf("metric %q is not prefixed by %q", m.Name, name+".")
				}
				if slices.Contains(metrics, m.Name) {
					t.Errorf("metric %q is listed twice", m.Name)
				}
				metrics = append(metrics, m.Name)
				if !slices.Contains(units, m.Unit) {
					t.Errorf("metric %q has unit %q, want one of %q", m.Name, m.Unit, units)
				}
				if m.Description == "" {
					t.Errorf("metric %q has no description", m.Name)
				}
			}
			if !slices.Equal(d.AlertTypes, tc.alertTypes) {
				t.Errorf("AlertTypes = %v, want %v", d.AlertTypes, tc.alertTypes)
			}
			for _, at := range d.AlertTypes {
				if !slices.Contains(metrics, at.Metric) {
					t.Errorf("alert type %q compares %q, which the source does not yield", at.Name, at.Metric)
				}
			}
		})
	}
}

func TestModule(t *testing.T) {
	ctx := context.Background()
	for name, tc := range sources() {
		t.Run(name, func(t *testing.T) {
			s := tc.new("dev")
			for _, p := range tc.supported {
				m, err := s.Module(ctx, p)
				if err != nil {
					t.Errorf("Module(%v): %v", p, err)
					continue
				}
				if m.Builtin != name || m.Artifact != nil {
					t.Errorf("Module(%v) = %+v, want the agent's built-in %q", p, m, name)
				}
			}
			refused := append(slices.Clone(tc.refused), source.Platform{OS: "linux"}, source.Platform{})
			for _, p := range refused {
				m, err := s.Module(ctx, p)
				if err == nil {
					t.Errorf("Module(%v) = %+v, want an error", p, m)
					continue
				}
				if !strings.Contains(err.Error(), p.OS+"/"+p.Arch) || !strings.Contains(err.Error(), name) {
					t.Errorf("Module(%v) error %q names neither the platform nor the source", p, err)
				}
			}
		})
	}
}

func TestDescribeReturnsCopies(t *testing.T) {
	ctx := context.Background()
	s := memory.New("dev")
	first, err := s.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first.Platforms[0] = "plan9/*"
	first.Metrics[0].Name = "tampered"
	first.AlertTypes[0].Metric = "tampered"
	second, err := s.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Platforms[0] == "plan9/*" || second.Metrics[0].Name == "tampered" || second.AlertTypes[0].Metric == "tampered" {
		t.Fatalf("changing one Describe result changed the next: %+v", second)
	}
	if _, err := s.Module(ctx, source.Platform{OS: "plan9", Arch: "amd64"}); err == nil {
		t.Fatal("changing a Describe result changed which platforms Module accepts")
	}
}

func TestDescribeCopiesTheSettings(t *testing.T) {
	ctx := context.Background()
	settings := schema.Schema{Attributes: []schema.Attribute{{Name: "file", Type: schema.String}}}
	s := agentbuiltin.New(source.Description{Name: "x", Settings: settings}, "x")
	settings.Attributes[0].Name = "changed by the caller"
	first, err := s.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first.Settings.Attributes[0].Type = schema.Number
	second, err := s.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Settings.Attributes[0]; got != (schema.Attribute{Name: "file", Type: schema.String}) {
		t.Fatalf("changing New's input or a Describe result changed the settings: %+v", got)
	}
}

func TestNewCopiesItsInput(t *testing.T) {
	platforms := []string{"linux/*"}
	s := agentbuiltin.New(source.Description{Name: "x", Platforms: platforms}, "x")
	platforms[0] = "plan9/*"
	if _, err := s.Module(context.Background(), source.Platform{OS: "linux", Arch: "amd64"}); err != nil {
		t.Fatalf("the caller's slice changed the source: %v", err)
	}
}
