package plugins_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestBuiltinsNamesAreUniquePerKind(t *testing.T) {
	seen := map[string][]string{}
	for _, b := range plugins.Builtins() {
		if b.Name == "" || b.New == nil {
			t.Errorf("%s built-in %q has no name or no constructor", b.Kind, b.Name)
		}
		if slices.Contains(seen[b.Kind], b.Name) {
			t.Errorf("%s %q is listed twice", b.Kind, b.Name)
		}
		seen[b.Kind] = append(seen[b.Kind], b.Name)
	}
	want := map[string][]string{
		plugins.KindSource:   {"cpu", "memory", "swap", "uptime", "disk", "net", "load", "authlog", "eventlog"},
		plugins.KindStorage:  {"sqlite", "postgres"},
		plugins.KindNotifier: {"smtp"},
	}
	for kind, names := range want {
		if !slices.Equal(seen[kind], names) {
			t.Errorf("%s built-ins = %q, want %q", kind, seen[kind], names)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("kinds = %v, want exactly %v", seen, want)
	}
}

func TestBuiltinsDescribeThemselves(t *testing.T) {
	ctx := context.Background()
	for _, b := range plugins.Builtins() {
		t.Run(b.Kind+"/"+b.Name, func(t *testing.T) {
			var name, version string
			var err error
			switch p := b.New("9.9.9").(type) {
			case source.Source:
				requireKind(t, b, plugins.KindSource)
				var d source.Description
				d, err = p.Describe(ctx)
				name, version = d.Name, d.Version
			case storage.Storage:
				requireKind(t, b, plugins.KindStorage)
				var d storage.Description
				d, err = p.Describe(ctx)
				name, version = d.Name, d.Version
			case notifier.Notifier:
				requireKind(t, b, plugins.KindNotifier)
				var d notifier.Description
				d, err = p.Describe(ctx)
				name, version = d.Name, d.Version
			default:
				t.Fatalf("New returned %T, which is no source, storage or notifier", p)
			}
			if err != nil {
				t.Fatalf("Describe: %v", err)
			}
			if name != b.Name || version != "9.9.9" {
				t.Fatalf("Describe = %q version %q, want %q version 9.9.9", name, version, b.Name)
			}
		})
	}
}

// TestBuiltinsDeclareValidSchemas checks the configuration schema every
// built-in declares; the storages and the notifier take configuration, so
// each declares at least one attribute.
func TestBuiltinsDeclareValidSchemas(t *testing.T) {
	ctx := context.Background()
	for _, b := range plugins.Builtins() {
		t.Run(b.Kind+"/"+b.Name, func(t *testing.T) {
			var s schema.Schema
			var err error
			switch p := b.New("dev").(type) {
			case source.Source:
				var d source.Description
				d, err = p.Describe(ctx)
				s = d.Settings
			case storage.Storage:
				var d storage.Description
				d, err = p.Describe(ctx)
				s = d.Config
			case notifier.Notifier:
				var d notifier.Description
				d, err = p.Describe(ctx)
				s = d.Config
			}
			if err != nil {
				t.Fatalf("Describe: %v", err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if b.Kind != plugins.KindSource && len(s.Attributes) == 0 {
				t.Errorf("%s %s declares no configuration, but it takes some", b.Kind, b.Name)
			}
		})
	}
}

func requireKind(t *testing.T, b plugins.Builtin, kind string) {
	t.Helper()
	if b.Kind != kind {
		t.Fatalf("%q is listed as a %s but New returns a %s", b.Name, b.Kind, kind)
	}
}

func TestBuiltinsAreFresh(t *testing.T) {
	first := plugins.Builtins()
	first[0].Name = "tampered"
	if plugins.Builtins()[0].Name == "tampered" {
		t.Fatal("changing one Builtins result changed the catalog")
	}
	b, ok := plugins.Lookup(plugins.KindNotifier, "smtp")
	if !ok {
		t.Fatal("smtp notifier not found")
	}
	if b.New("1") == b.New("1") {
		t.Fatal("New returned the same instance twice")
	}
}

func TestLookup(t *testing.T) {
	tests := map[string]struct {
		kind, name string
		found      bool
	}{
		"source":               {plugins.KindSource, "memory", true},
		"storage":              {plugins.KindStorage, "sqlite", true},
		"notifier":             {plugins.KindNotifier, "smtp", true},
		"name of another kind": {plugins.KindStorage, "smtp", false},
		"unknown name":         {plugins.KindSource, "syslog", false},
		"event source":         {plugins.KindSource, "eventlog", true},
		"unknown kind":         {"sink", "sqlite", false},
		"case matters":         {plugins.KindSource, "CPU", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, ok := plugins.Lookup(tc.kind, tc.name)
			if ok != tc.found {
				t.Fatalf("Lookup(%q, %q) found = %v, want %v", tc.kind, tc.name, ok, tc.found)
			}
			if ok && (b.Kind != tc.kind || b.Name != tc.name || b.New == nil) {
				t.Fatalf("Lookup(%q, %q) = %+v", tc.kind, tc.name, b)
			}
		})
	}
}
