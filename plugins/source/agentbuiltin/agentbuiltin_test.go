package agentbuiltin_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/plugins/source/cpu"
	"github.com/cscs-dev/cscs/plugins/source/load"
	"github.com/cscs-dev/cscs/plugins/source/memory"
	"github.com/cscs-dev/cscs/plugins/source/swap"
	"github.com/cscs-dev/cscs/plugins/source/uptime"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

// units are the units source.MetricInfo allows.
var units = []string{"percent", "bytes", "seconds", "count", ""}

// sources are the built-in sources with the platforms they must accept and
// refuse.
func sources() map[string]struct {
	new       func(version string) *agentbuiltin.Source
	alertType source.AlertType
	supported []source.Platform
	refused   []source.Platform
} {
	everyAgentOS := []source.Platform{
		{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"},
		{OS: "darwin", Arch: "amd64"}, {OS: "darwin", Arch: "arm64"},
		{OS: "windows", Arch: "amd64"}, {OS: "windows", Arch: "arm64"},
	}
	elsewhere := []source.Platform{{OS: "plan9", Arch: "amd64"}, {OS: "freebsd", Arch: "arm64"}}
	return map[string]struct {
		new       func(version string) *agentbuiltin.Source
		alertType source.AlertType
		supported []source.Platform
		refused   []source.Platform
	}{
		"cpu":    {cpu.New, source.AlertType{Name: "cpu", Metric: "cpu.percent"}, everyAgentOS, elsewhere},
		"memory": {memory.New, source.AlertType{Name: "memory", Metric: "memory.used_percent"}, everyAgentOS, elsewhere},
		"swap":   {swap.New, source.AlertType{Name: "swap", Metric: "swap.used_percent"}, everyAgentOS, elsewhere},
		"uptime": {uptime.New, source.AlertType{Name: "uptime", Metric: "uptime.seconds"}, everyAgentOS, elsewhere},
		"load": {load.New, source.AlertType{Name: "load", Metric: "load.1"}, everyAgentOS[:4],
			append([]source.Platform{{OS: "windows", Arch: "amd64"}, {OS: "windows", Arch: "arm64"}}, elsewhere...)},
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
			if d.YieldsEvents || d.Decodes {
				t.Errorf("YieldsEvents %v, Decodes %v: the agent's module yields metrics itself", d.YieldsEvents, d.Decodes)
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
			if !slices.Equal(d.AlertTypes, []source.AlertType{tc.alertType}) {
				t.Errorf("AlertTypes = %v, want [%v]", d.AlertTypes, tc.alertType)
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
