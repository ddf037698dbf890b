package pluginhost_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/pluginhost"
)

// fileLineCol matches the file:line:col a syntax error names.
var fileLineCol = regexp.MustCompile(`manifest\.json:(\d+):(\d+):`)

// FuzzLoadManifest loads fuzzed plugin manifests. Properties: no panic; a
// manifest or an error; an error names the manifest file and, for JSON
// that does not decode, a line and column inside it; a loaded manifest
// has only valid, unique entries sorted by kind and name, and saves to a
// file that loads to the same entries.
func FuzzLoadManifest(f *testing.F) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "manifest", "*", pluginhost.ManifestFileName))
	if err != nil || len(dirs) == 0 {
		f.Fatalf("no manifest fixtures: %v", err)
	}
	for _, name := range dirs {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := filepath.Join(base, "in")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, pluginhost.ManifestFileName)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := pluginhost.LoadManifest(dir)
		if (m == nil) == (err == nil) {
			t.Fatalf("LoadManifest returned manifest %v and error %v", m != nil, err)
		}
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error does not name the file %s: %v", path, err)
			}
			if strings.Contains(msg, "malformed JSON") || strings.Contains(msg, "holds a JSON") {
				lc := fileLineCol.FindStringSubmatch(msg)
				if lc == nil {
					t.Fatalf("error names no line and column: %v", err)
				}
				line, _ := strconv.Atoi(lc[1])
				col, _ := strconv.Atoi(lc[2])
				lines := strings.Split(string(b), "\n")
				if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1])+1 {
					t.Errorf("error points at %d:%d, outside the file of %d lines: %v", line, col, len(lines), err)
				}
			}
			return
		}
		seen := map[string]bool{}
		for i, e := range m.Plugins {
			if err := e.Validate(); err != nil {
				t.Errorf("invalid entry loaded: %v", err)
			}
			if seen[e.String()] {
				t.Errorf("%s loaded twice", e)
			}
			seen[e.String()] = true
			if i > 0 {
				prev := m.Plugins[i-1]
				if prev.Kind > e.Kind || prev.Kind == e.Kind && prev.Name > e.Name {
					t.Errorf("entries not sorted: %s before %s", prev, e)
				}
			}
		}
		if err := m.Save(); err != nil {
			t.Fatalf("a loaded manifest does not save: %v", err)
		}
		again, err := pluginhost.LoadManifest(dir)
		if err != nil {
			t.Fatalf("a saved manifest does not load: %v", err)
		}
		// No entries is no entries, whether null or [] on disk.
		a, _ := json.Marshal(slices.Clip(append([]pluginhost.Entry{}, m.Plugins...)))
		c, _ := json.Marshal(slices.Clip(append([]pluginhost.Entry{}, again.Plugins...)))
		if !slices.Equal(a, c) {
			t.Errorf("entries change when saved and loaded again:\n%s\n%s", a, c)
		}
	})
}
