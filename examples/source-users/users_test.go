package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/source"
)

// checkDescription checks what the source declares, as the core sees it.
func checkDescription(t *testing.T, s source.Source) {
	t.Helper()
	d, err := s.Describe(t.Context())
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d.Name != "users" || d.Version != version || d.Decodes || d.YieldsEvents {
		t.Errorf("description = %+v, want name users, version %s, no decoding, no events", d, version)
	}
	if want := []string{"linux/*", "darwin/*"}; !slices.Equal(d.Platforms, want) {
		t.Errorf("platforms = %q, want %q", d.Platforms, want)
	}
	units := map[string]string{}
	for _, m := range d.Metrics {
		units[m.Name] = m.Unit
		if m.Description == "" {
			t.Errorf("metric %s has no description", m.Name)
		}
	}
	if want := map[string]string{"users.logged_in": "count", "users.distinct": "count"}; len(units) != len(want) ||
		units["users.logged_in"] != "count" || units["users.distinct"] != "count" {
		t.Errorf("metrics and units = %v, want %v", units, want)
	}
	if want := []source.AlertType{{Name: "users", Metric: "users.logged_in"}}; !slices.Equal(d.AlertTypes, want) {
		t.Errorf("alert types = %+v, want %+v", d.AlertTypes, want)
	}
}

// checkModules checks Module for supported and unsupported platforms.
func checkModules(t *testing.T, s source.Source) {
	t.Helper()
	cases := map[string]struct {
		platform source.Platform
		wantErr  []string // nil: the script
	}{
		"linux amd64":   {platform: source.Platform{OS: "linux", Arch: "amd64"}},
		"linux arm64":   {platform: source.Platform{OS: "linux", Arch: "arm64"}},
		"darwin arm64":  {platform: source.Platform{OS: "darwin", Arch: "arm64"}},
		"windows amd64": {platform: source.Platform{OS: "windows", Arch: "amd64"}, wantErr: []string{"windows/amd64", "not supported", "who(1)"}},
		"freebsd amd64": {platform: source.Platform{OS: "freebsd", Arch: "amd64"}, wantErr: []string{"freebsd/amd64", "not supported", "linux and darwin"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := s.Module(t.Context(), tc.platform)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Module = %+v, want an error", m)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Module: %v", err)
			}
			a := m.Artifact
			if m.Builtin != "" || a == nil {
				t.Fatalf("module = %+v, want the script artifact", m)
			}
			if a.FileName != "users.sh" || !slices.Equal(a.Interpreter, []string{"/bin/sh"}) || a.Timeout != moduleTimeout {
				t.Errorf("artifact = %s run by %q within %s, want users.sh run by /bin/sh within %s", a.FileName, a.Interpreter, a.Timeout, moduleTimeout)
			}
			if !bytes.Equal(a.Data, script) || !bytes.HasPrefix(a.Data, []byte("#!/bin/sh\n")) {
				t.Errorf("artifact data is not the embedded users.sh (%d bytes, want %d)", len(a.Data), len(script))
			}
		})
	}
}

func TestDescribeAndModuleInProcess(t *testing.T) {
	t.Parallel()
	s := sdktest.Source(t, Source{})
	checkDescription(t, s)
	checkModules(t, s)
}

func TestUnsupportedPlatformIsTyped(t *testing.T) {
	t.Parallel()
	_, err := Source{}.Module(t.Context(), source.Platform{OS: "windows", Arch: "arm64"})
	if !errors.Is(err, ErrUnsupportedPlatform) {
		t.Errorf("Module(windows/arm64) = %v, want an error wrapping ErrUnsupportedPlatform", err)
	}
}

func TestConformanceInProcess(t *testing.T) {
	t.Parallel()
	sdktest.SourceConformance(t, sdktest.Source(t, Source{}))
}

// TestDeclaresNoSettings: the script reads no settings, so the source
// declares none for the core to accept in a module "users" block.
func TestDeclaresNoSettings(t *testing.T) {
	t.Parallel()
	d, err := sdktest.Source(t, Source{}).Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if names := d.Settings.Names(); len(names) != 0 {
		t.Errorf("the source declares settings %q, but users.sh reads none", names)
	}
	if grep := "config"; strings.Contains(string(script), grep) {
		t.Errorf("users.sh mentions %q: if it now reads settings, declare them in description()", grep)
	}
}
