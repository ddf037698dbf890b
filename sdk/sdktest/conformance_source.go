package sdktest

import (
	"context"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/source"
)

// SourceConformance checks the source contract on s: the description is
// well formed (lower_snake_case name; a settings schema that validates;
// metric names prefixed by the source name; known units; alert types that compare declared metrics; platforms
// as "os/arch" with "*" wildcards; Decodes only with a Decoder); Module
// answers every declared platform with exactly one of a built-in module or
// an artifact (a base file name and non-empty content); and Module refuses
// a platform the source does not declare.
func SourceConformance(t testing.TB, s source.Source) {
	t.Helper()

	d, err := callFor(t, s.Describe)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	checkSourceDescription(t, s, d)

	for _, p := range representativePlatforms(d.Platforms) {
		m, err := callFor(t, func(ctx context.Context) (source.Module, error) { return s.Module(ctx, p) })
		if err != nil {
			t.Errorf("Module(%s/%s), a declared platform: %v", p.OS, p.Arch, err)
			continue
		}
		checkModule(t, p, m)
	}

	undeclared := source.Platform{OS: "plan9", Arch: "mips"}
	if len(d.Platforms) > 0 && !platformDeclared(d.Platforms, undeclared) {
		_, err := callFor(t, func(ctx context.Context) (source.Module, error) { return s.Module(ctx, undeclared) })
		if err == nil {
			t.Errorf("Module(plan9/mips) succeeded, but the source does not declare that platform: it must return an error")
		}
	}
}

func checkSourceDescription(t testing.TB, s source.Source, d source.Description) {
	t.Helper()
	checkName(t, "source", d.Name)
	checkSchema(t, "source", d.Name, "Settings", d.Settings)
	declared := make(map[string]bool, len(d.Metrics))
	for _, m := range d.Metrics {
		declared[m.Name] = true
		if !strings.HasPrefix(m.Name, d.Name+".") {
			t.Errorf("metric %q must start with the source name: %q", m.Name, d.Name+".")
		}
		if units := metrics.Units(); !slices.Contains(units, m.Unit) {
			t.Errorf("metric %q has unit %q; use one of %q", m.Name, m.Unit, units)
		}
	}
	for _, a := range d.AlertTypes {
		if a.Name == "" {
			t.Errorf("an alert type has no name (it compares %q)", a.Metric)
		}
		if !declared[a.Metric] {
			t.Errorf("alert type %q compares metric %q, which the source does not declare", a.Name, a.Metric)
		}
	}
	for _, p := range d.Platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
			t.Errorf("platform %q must be \"os/arch\" (\"linux/amd64\", \"windows/*\", \"*/*\")", p)
		}
	}
	if d.Decodes {
		if _, ok := s.(source.Decoder); !ok {
			t.Errorf("the description says decodes=true but the source does not implement source.Decoder")
		}
	}
}

func checkModule(t testing.TB, p source.Platform, m source.Module) {
	t.Helper()
	switch {
	case m.Builtin == "" && m.Artifact == nil:
		t.Errorf("Module(%s/%s) names neither a built-in module nor an artifact", p.OS, p.Arch)
	case m.Builtin != "" && m.Artifact != nil:
		t.Errorf("Module(%s/%s) names both built-in module %q and an artifact; set one", p.OS, p.Arch, m.Builtin)
	case m.Artifact != nil:
		a := m.Artifact
		if a.FileName == "" || a.FileName != path.Base(a.FileName) || strings.ContainsAny(a.FileName, `/\`) || a.FileName == ".." {
			t.Errorf("Module(%s/%s): artifact file name %q must be a plain base name", p.OS, p.Arch, a.FileName)
		}
		if len(a.Data) == 0 {
			t.Errorf("Module(%s/%s): artifact %q is empty", p.OS, p.Arch, a.FileName)
		}
		if a.Timeout < 0 {
			t.Errorf("Module(%s/%s): artifact %q has a negative timeout %s", p.OS, p.Arch, a.FileName, a.Timeout)
		}
	}
}

// representativePlatforms returns concrete platforms for the declared
// ones: wildcards become a common architecture or system, and no
// declaration stands for the three main systems.
func representativePlatforms(declared []string) []source.Platform {
	if len(declared) == 0 {
		return []source.Platform{{OS: "linux", Arch: "amd64"}, {OS: "windows", Arch: "amd64"}, {OS: "darwin", Arch: "arm64"}}
	}
	var out []source.Platform
	for _, p := range declared {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok {
			continue
		}
		if goos == "*" {
			goos = "linux"
		}
		if goarch == "*" {
			goarch = "amd64"
		}
		if pl := (source.Platform{OS: goos, Arch: goarch}); !slices.Contains(out, pl) {
			out = append(out, pl)
		}
	}
	return out
}

// platformDeclared reports whether p matches one of the declared platforms.
func platformDeclared(declared []string, p source.Platform) bool {
	for _, d := range declared {
		goos, goarch, _ := strings.Cut(d, "/")
		if (goos == "*" || goos == p.OS) && (goarch == "*" || goarch == p.Arch) {
			return true
		}
	}
	return false
}
