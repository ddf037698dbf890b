package pluginhost_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/pluginhost"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestLoadManifest(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		dir string
		// want are the entries' "kind name version" on success.
		want []string
		// wantErr are substrings of the error; nil means success.
		wantErr []string
	}{
		"missing file is an empty manifest": {
			dir:  "testdata/manifest/does_not_exist",
			want: []string{},
		},
		"good, sorted by kind then name, unknown fields ignored": {
			dir:  "testdata/manifest/good",
			want: []string{"notifier webhook 1.0.0", "storage jsonl 0.2.0"},
		},
		"trailing comma": {
			dir:     "testdata/manifest/syntax_trailing_comma",
			wantErr: []string{filepath.Join("syntax_trailing_comma", "manifest.json") + ":5:3:", "malformed JSON", "invalid character ']'"},
		},
		"truncated": {
			dir:     "testdata/manifest/truncated",
			wantErr: []string{"manifest.json:4:22:", "malformed JSON", "unexpected end of JSON input"},
		},
		"string where a number belongs": {
			dir:     "testdata/manifest/wrong_type",
			wantErr: []string{"manifest.json:5:20:", "protocol", "JSON string", "want int"},
		},
		"format from a newer cscs": {
			dir:     "testdata/manifest/future_version",
			wantErr: []string{"format version 2", "reads version 1"},
		},
		"unknown kind": {
			dir:     "testdata/manifest/unknown_kind",
			wantErr: []string{"entry 2", `kind "exporter"`, "source, storage, notifier"},
		},
		"name not lower_snake_case": {
			dir:     "testdata/manifest/bad_name",
			wantErr: []string{"entry 2", `"Users-Count"`, "lower_snake_case"},
		},
		"file escaping the plugins directory": {
			dir:     "testdata/manifest/file_with_slash",
			wantErr: []string{"entry 2", `file "../../bin/sh"`, "base name"},
		},
		"checksum not hex": {
			dir:     "testdata/manifest/bad_sha256",
			wantErr: []string{"entry 2", `sha256 "AAAA"`, "64 lowercase hex"},
		},
		"same kind and name twice": {
			dir:     "testdata/manifest/duplicate",
			wantErr: []string{"entry 2", "storage jsonl is listed twice"},
		},
		"member on a storage": {
			dir:     "testdata/manifest/member_on_storage",
			wantErr: []string{"entry 2", `storage bundle_store: member "bundle_store"`, "one of the binary's sources"},
		},
		"protocol missing": {
			dir:     "testdata/manifest/no_protocol",
			wantErr: []string{"entry 2", "source users: protocol 0"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := pluginhost.LoadManifest(tc.dir)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("LoadManifest(%s) succeeded, want an error containing %q", tc.dir, tc.wantErr)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadManifest(%s): %v", tc.dir, err)
			}
			if m.Dir() != tc.dir {
				t.Errorf("Dir() = %q, want %q", m.Dir(), tc.dir)
			}
			got := []string{}
			for _, e := range m.Plugins {
				got = append(got, e.Kind+" "+e.Name+" "+e.Version)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadManifestGoodFields(t *testing.T) {
	t.Parallel()
	m, err := pluginhost.LoadManifest("testdata/manifest/good")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := m.Find("storage", "jsonl")
	if !ok {
		t.Fatal("storage jsonl not found")
	}
	want := pluginhost.Entry{
		Kind: "storage", Name: "jsonl", Version: "0.2.0", Protocol: 1,
		File: "cscs-jsonl-0123456789ab", SHA256: shaB,
		InstalledAt: time.Date(2025, 11, 25, 10, 0, 0, 0, time.UTC),
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("Find = %+v, want %+v", e, want)
	}
	if got, want := e.Path("/p"), filepath.Join("/p", "cscs-jsonl-0123456789ab"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

func TestManifestPutFind(t *testing.T) {
	t.Parallel()
	entry := func(kind, name, version string) pluginhost.Entry {
		return pluginhost.Entry{Kind: kind, Name: name, Version: version, Protocol: 1, File: name, SHA256: shaA}
	}
	cases := map[string]struct {
		put       []pluginhost.Entry
		want      []string
		findKind  string
		findName  string
		wantFound string // version, "" for not found
	}{
		"empty finds nothing": {
			findKind: "storage", findName: "jsonl",
			want: []string{},
		},
		"adds sorted": {
			put:      []pluginhost.Entry{entry("storage", "b", "1"), entry("notifier", "z", "1"), entry("storage", "a", "1")},
			want:     []string{"notifier z 1", "storage a 1", "storage b 1"},
			findKind: "storage", findName: "a", wantFound: "1",
		},
		"replaces same kind and name": {
			put:      []pluginhost.Entry{entry("storage", "jsonl", "0.1.0"), entry("storage", "jsonl", "0.2.0")},
			want:     []string{"storage jsonl 0.2.0"},
			findKind: "storage", findName: "jsonl", wantFound: "0.2.0",
		},
		"same name, other kind is another plugin": {
			put:      []pluginhost.Entry{entry("storage", "x", "1"), entry("source", "x", "2")},
			want:     []string{"source x 2", "storage x 1"},
			findKind: "notifier", findName: "x",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := pluginhost.LoadManifest(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.put {
				m.Put(e)
			}
			got := []string{}
			for _, e := range m.Plugins {
				got = append(got, e.Kind+" "+e.Name+" "+e.Version)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries = %q, want %q", got, tc.want)
			}
			e, ok := m.Find(tc.findKind, tc.findName)
			if ok != (tc.wantFound != "") || e.Version != tc.wantFound {
				t.Errorf("Find(%s, %s) = %+v, %v; want version %q", tc.findKind, tc.findName, e, ok, tc.wantFound)
			}
		})
	}
}

func TestManifestSaveRoundTrip(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "plugins")
	m, err := pluginhost.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e1 := pluginhost.Entry{Kind: "storage", Name: "jsonl", Version: "0.2.0", Protocol: 1, File: "jsonl-012345678901", SHA256: shaB, InstalledAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	e2 := pluginhost.Entry{Kind: "notifier", Name: "jsonl", Version: "0.2.0", Protocol: 1, File: "jsonl-012345678901", SHA256: shaB, InstalledAt: e1.InstalledAt}
	m.Put(e1)
	m.Put(e2)
	if err := m.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
	again, err := pluginhost.LoadManifest(dir)
	if err != nil {
		t.Fatalf("LoadManifest after Save: %v", err)
	}
	if !reflect.DeepEqual(again.Plugins, []pluginhost.Entry{e2, e1}) {
		t.Errorf("reloaded %+v, want %+v", again.Plugins, []pluginhost.Entry{e2, e1})
	}
	if !again.References("jsonl-012345678901") || again.References("other") {
		t.Error("References does not match the entries' files")
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0].Name() != pluginhost.ManifestFileName {
		t.Errorf("plugins dir holds %v, want only %s (no temporary files)", names, pluginhost.ManifestFileName)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, dir, 0o700|os.ModeDir)
		assertMode(t, filepath.Join(dir, pluginhost.ManifestFileName), 0o600)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, info.Mode(), want)
	}
}

func TestManifestSaveRefusesInvalid(t *testing.T) {
	t.Parallel()
	valid := pluginhost.Entry{Kind: "storage", Name: "jsonl", Version: "1", Protocol: 1, File: "jsonl", SHA256: shaA}
	cases := map[string]struct {
		edit    func(*pluginhost.Entry)
		wantErr string
	}{
		"empty name":     {func(e *pluginhost.Entry) { e.Name = "" }, `name ""`},
		"kind typo":      {func(e *pluginhost.Entry) { e.Kind = "storages" }, `kind "storages"`},
		"path as file":   {func(e *pluginhost.Entry) { e.File = "bin/jsonl" }, `file "bin/jsonl"`},
		"manifest file":  {func(e *pluginhost.Entry) { e.File = pluginhost.ManifestFileName }, `file "manifest.json"`},
		"short checksum": {func(e *pluginhost.Entry) { e.SHA256 = "abc" }, `sha256 "abc"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			m, err := pluginhost.LoadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			m.Put(valid)
			if err := m.Save(); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(filepath.Join(dir, pluginhost.ManifestFileName))
			if err != nil {
				t.Fatal(err)
			}
			bad := valid
			bad.Name = "other"
			tc.edit(&bad)
			m.Put(bad)
			err = m.Save()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "not saved") {
				t.Fatalf("Save = %v, want an error containing %q", err, tc.wantErr)
			}
			after, err := os.ReadFile(filepath.Join(dir, pluginhost.ManifestFileName))
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("a refused Save changed the file:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

func TestManifestSaveWithoutDir(t *testing.T) {
	t.Parallel()
	var m pluginhost.Manifest
	if err := m.Save(); err == nil || !strings.Contains(err.Error(), "LoadManifest") {
		t.Errorf("Save of a zero Manifest = %v, want an error pointing to LoadManifest", err)
	}
	if _, err := pluginhost.LoadManifest(""); err == nil {
		t.Error("LoadManifest(\"\") succeeded, want an error")
	}
}

func TestVerifyFile(t *testing.T) {
	t.Parallel()
	const content = "#!/bin/sh\necho plugin\n"
	cases := map[string]struct {
		setup   func(t *testing.T, dir string) pluginhost.Entry
		wantIs  error
		wantErr []string // nil: VerifyFile succeeds
	}{
		"intact": {
			setup: func(t *testing.T, dir string) pluginhost.Entry {
				return writePlugin(t, dir, "p", content, "")
			},
		},
		"missing": {
			setup: func(t *testing.T, dir string) pluginhost.Entry {
				e := writePlugin(t, dir, "p", content, "")
				if err := os.Remove(e.Path(dir)); err != nil {
					t.Fatal(err)
				}
				return e
			},
			wantIs:  pluginhost.ErrPluginFileMissing,
			wantErr: []string{"plugin storage p: file missing", "reinstall with cscs plugins install"},
		},
		"changed after install": {
			setup: func(t *testing.T, dir string) pluginhost.Entry {
				e := writePlugin(t, dir, "p", content, "")
				if err := os.WriteFile(e.Path(dir), []byte(content+"# tampered\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				return e
			},
			wantIs:  pluginhost.ErrPluginFileChanged,
			wantErr: []string{"plugin storage p: checksum mismatch", "reinstall"},
		},
		"pinned to another checksum": {
			setup: func(t *testing.T, dir string) pluginhost.Entry {
				return writePlugin(t, dir, "p", content, shaA)
			},
			wantIs:  pluginhost.ErrPluginFileChanged,
			wantErr: []string{"checksum mismatch", shaA + " was installed"},
		},
		"a directory in its place": {
			setup: func(t *testing.T, dir string) pluginhost.Entry {
				e := writePlugin(t, dir, "p", content, "")
				if err := os.Remove(e.Path(dir)); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(e.Path(dir), 0o700); err != nil {
					t.Fatal(err)
				}
				return e
			},
			wantErr: []string{"not a regular file"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := tc.setup(t, dir)
			err := pluginhost.VerifyFile(dir, e)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyFile: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("VerifyFile succeeded, want an error containing %q", tc.wantErr)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q is not %v", err, tc.wantIs)
			}
		})
	}
}

// writePlugin writes content as a plugin binary in dir and returns its
// entry, pinned to pin (or to the content's real checksum when pin is "").
func writePlugin(t *testing.T, dir, name, content, pin string) pluginhost.Entry {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := pluginhost.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	if pin == "" {
		pin = sum
	}
	return pluginhost.Entry{Kind: "storage", Name: name, Version: "1", Protocol: 1, File: name, SHA256: pin}
}

func TestFileSHA256(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := pluginhost.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	// The FIPS 180-2 test vector for "abc".
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("FileSHA256 = %s, want %s", got, want)
	}
	if _, err := pluginhost.FileSHA256(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FileSHA256 of a missing file = %v, want ErrNotExist", err)
	}
}

// TestUninstall: a plugin leaves the manifest and its binary goes once
// no entry uses it; a name of two kinds needs the kind; an unknown name
// lists what is installed.
func TestUninstall(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	entry := func(kind, name, file string) pluginhost.Entry {
		return pluginhost.Entry{Kind: kind, Name: name, Version: "1.0.0", Protocol: 1, File: file, SHA256: sha}
	}
	tests := map[string]struct {
		kind, name string
		wantErr    string
		// wantLeft are the entries left; wantFiles the binaries left.
		wantLeft, wantFiles []string
	}{
		"alone":            {name: "jsonl", wantLeft: []string{"source north", "source south", "source x", "storage x"}, wantFiles: []string{"bundle", "x-source", "x-storage"}},
		"one of a bundle":  {name: "north", wantLeft: []string{"source jsonl", "source south", "source x", "storage x"}, wantFiles: []string{"bundle", "jsonl", "x-source", "x-storage"}},
		"two kinds":        {name: "x", wantErr: "installed as a source and as a storage; say which with --kind"},
		"two kinds, kind":  {kind: "storage", name: "x", wantLeft: []string{"source jsonl", "source north", "source south", "source x"}, wantFiles: []string{"bundle", "jsonl", "x-source"}},
		"unknown":          {name: "nope", wantErr: "installed: source jsonl, source north"},
		"unknown for kind": {kind: "notifier", name: "jsonl", wantErr: `no plugin named "jsonl"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			m, err := pluginhost.LoadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []pluginhost.Entry{entry("source", "jsonl", "jsonl"), entry("source", "north", "bundle"), entry("source", "south", "bundle"),
				entry("source", "x", "x-source"), entry("storage", "x", "x-storage")} {
				m.Put(e)
				if err := os.WriteFile(e.Path(dir), []byte("binary"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			_, err = pluginhost.Uninstall(m, tc.kind, tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reloaded, err := pluginhost.LoadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, e := range reloaded.Plugins {
				left = append(left, e.String())
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			var names []string
			for _, f := range files {
				if base := filepath.Base(f); base != pluginhost.ManifestFileName {
					names = append(names, base)
				}
			}
			if strings.Join(left, ", ") != strings.Join(tc.wantLeft, ", ") || strings.Join(names, " ") != strings.Join(tc.wantFiles, " ") {
				t.Errorf("left %v with files %v; want %v with %v", left, names, tc.wantLeft, tc.wantFiles)
			}
		})
	}
}
