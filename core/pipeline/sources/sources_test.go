package sources

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cscs-dev/cscs/sdk/source"
)

type fake struct {
	desc    source.Description
	descErr error
	module  func(p source.Platform) (source.Module, error)
	calls   atomic.Int32
}

func (f *fake) Describe(context.Context) (source.Description, error) { return f.desc, f.descErr }
func (f *fake) Module(_ context.Context, p source.Platform) (source.Module, error) {
	f.calls.Add(1)
	return f.module(p)
}

func builtin(name string, platforms ...string) *fake {
	return &fake{
		desc: source.Description{Name: name, Platforms: platforms,
			Metrics:    []source.MetricInfo{{Name: name + ".x", Unit: "percent"}},
			AlertTypes: []source.AlertType{{Name: name, Metric: name + ".x"}}},
		module: func(source.Platform) (source.Module, error) { return source.Module{Builtin: name}, nil },
	}
}

func TestPlan(t *testing.T) {
	script := &fake{desc: source.Description{Name: "users", Platforms: []string{"linux/*"}},
		module: func(source.Platform) (source.Module, error) {
			return source.Module{Artifact: &source.Artifact{FileName: "users.sh", Data: []byte("echo {}"), Interpreter: []string{"/bin/sh"}}}, nil
		}}
	badName := &fake{desc: source.Description{Name: "evil"},
		module: func(source.Platform) (source.Module, error) {
			return source.Module{Artifact: &source.Artifact{FileName: "../evil.sh", Data: []byte("x")}}, nil
		}}
	failing := &fake{desc: source.Description{Name: "broken"},
		module: func(source.Platform) (source.Module, error) { return source.Module{}, errors.New("boom") }}
	cpu := builtin("cpu")
	set, errs := Load(context.Background(), []Named{
		{"cpu", cpu}, {"load", builtin("load", "linux/*", "darwin/*")}, {"users", script},
		{"evil", badName}, {"broken", failing},
		{"dup", builtin("cpu")},
		{"nodesc", &fake{descErr: errors.New("crashed")}},
	})
	if len(errs) != 2 || errs[0].Name != "dup" || !strings.Contains(errs[0].Err.Error(), "already used") ||
		errs[1].Name != "nodesc" || !strings.Contains(errs[1].Err.Error(), "crashed") {
		t.Fatalf("load failures: %v", errs)
	}
	linux := set.PlanFor(context.Background(), source.Platform{OS: "linux", Arch: "amd64"})
	if strings.Join(linux.Builtins, ",") != "cpu,load" {
		t.Errorf("linux builtins %v", linux.Builtins)
	}
	if len(linux.External) != 1 || linux.External[0].Source != "users" || len(linux.External[0].SHA256) != 64 {
		t.Errorf("linux external %+v", linux.External)
	}
	if len(linux.Skipped) != 2 || !strings.HasPrefix(linux.Skipped[0], "evil:") || !strings.HasPrefix(linux.Skipped[1], "broken:") {
		t.Errorf("linux skipped %v", linux.Skipped)
	}
	win := set.PlanFor(context.Background(), source.Platform{OS: "windows", Arch: "amd64"})
	if strings.Join(win.Builtins, ",") != "cpu" || len(win.External) != 0 {
		t.Errorf("windows plan %+v", win)
	}
	for i := 0; i < 5; i++ {
		set.PlanFor(context.Background(), source.Platform{OS: "linux", Arch: "amd64"})
	}
	if n := cpu.calls.Load(); n != 2 {
		t.Errorf("cpu.Module called %d times, want once per platform (2)", n)
	}
	if u, ok := set.Unit("cpu.x"); !ok || u != "percent" {
		t.Errorf("unit %q %v", u, ok)
	}
	if descs := set.Descriptions(); len(descs) != 5 || descs[1].Name != "load" {
		t.Errorf("descriptions %+v", descs)
	}
}

func TestPlanOnly(t *testing.T) {
	p := Plan{
		Builtins:       []string{"cpu", "mem"},
		BuiltinSources: []string{"cpu", "memory"},
		External:       []External{{Source: "users"}, {Source: "disks"}},
		Skipped:        []string{"broken: no module"},
	}
	tests := []struct {
		names        []string
		wantBuiltins []string
		wantExternal []string
	}{
		{[]string{"memory", "users"}, []string{"mem"}, []string{"users"}},
		{[]string{"cpu"}, []string{"cpu"}, nil},
		{[]string{}, nil, nil},
	}
	for _, tt := range tests {
		got := p.Only(tt.names)
		var ext []string
		for _, e := range got.External {
			ext = append(ext, e.Source)
		}
		if !slices.Equal(got.Builtins, tt.wantBuiltins) || !slices.Equal(ext, tt.wantExternal) {
			t.Errorf("Only(%v) = builtins %v external %v, want %v %v", tt.names, got.Builtins, ext, tt.wantBuiltins, tt.wantExternal)
		}
		if len(got.Skipped) != 1 {
			t.Errorf("Only(%v) lost the skipped sources: %v", tt.names, got.Skipped)
		}
	}
	if len(p.Builtins) != 2 {
		t.Errorf("Only changed the plan it filtered: %v", p.Builtins)
	}
}
