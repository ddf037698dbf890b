package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/pluginhost"
)

// fakeDescriber answers Describe from the binary's content: each line
// "kind name version" of the file is one plugin it serves; a file whose
// first line is "fail" does not start.
type fakeDescriber struct {
	t     *testing.T
	calls int
}

func (f *fakeDescriber) Describe(_ context.Context, path, sum, _ string) ([]pluginhost.Entry, error) {
	f.calls++
	got, err := pluginhost.FileSHA256(path)
	if err != nil {
		f.t.Errorf("Describe(%s): %v", path, err)
		return nil, err
	}
	if got != sum {
		f.t.Errorf("Describe got sha256 %s for a file whose sha256 is %s", sum, got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []pluginhost.Entry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "fail" {
			return nil, errors.New("plugin exited before the handshake: exit status 1")
		}
		if line == "" {
			continue
		}
		w := strings.Fields(line)
		entries = append(entries, pluginhost.Entry{Kind: w[0], Name: w[1], Version: w[2], Protocol: 1})
	}
	return entries, nil
}

func fakeDescriberFor(d *fakeDescriber) func(string) pluginDescriber {
	return func(string) pluginDescriber { return d }
}

// testBuiltins are built-in plugins for the plugins commands: source cpu
// and storage sqlite, version 1.2.3.
func testBuiltins() []builtinPlugin {
	return []builtinPlugin{
		{kind: "source", name: "cpu", version: "1.2.3", protocol: 1},
		{kind: "storage", name: "sqlite", version: "1.2.3", protocol: 1},
	}
}

// pluginCLI runs a plugins command with its output captured.
func pluginCLI(t *testing.T, run func(*Env) int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Args: args, Stdout: &out, Stderr: &errOut, Version: "1.2.3", Getenv: func(string) string { return "" }}
	code = run(env)
	return code, out.String(), errOut.String()
}

func writeFakePlugin(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPluginsInstall(t *testing.T) {
	t.Parallel()
	type step struct {
		// binary is the fake plugin's content (see fakeDescriber).
		binary   []string
		args     []string // extra flags after PATH
		wantCode int
		wantOut  []string
		wantErr  []string
	}
	cases := map[string]struct {
		steps []step
		// want are "kind name version" of the manifest at the end.
		want []string
		// wantFiles is how many plugin binaries the plugins dir holds.
		wantFiles int
	}{
		"fresh install": {
			steps: []step{{
				binary:  []string{"storage jsonl 0.1.0"},
				wantOut: []string{"installed storage jsonl 0.1.0 (protocol 1) as "},
			}},
			want:      []string{"storage jsonl 0.1.0"},
			wantFiles: 1,
		},
		"update replaces the entry and removes the old binary": {
			steps: []step{
				{binary: []string{"storage jsonl 0.1.0"}},
				{binary: []string{"storage jsonl 0.2.0"}, wantOut: []string{"updated storage jsonl 0.1.0 → 0.2.0"}},
			},
			want:      []string{"storage jsonl 0.2.0"},
			wantFiles: 1,
		},
		"same binary twice": {
			steps: []step{
				{binary: []string{"storage jsonl 0.1.0"}},
				{binary: []string{"storage jsonl 0.1.0"}, wantOut: []string{"reinstalled storage jsonl 0.1.0 (same binary)"}},
			},
			want:      []string{"storage jsonl 0.1.0"},
			wantFiles: 1,
		},
		"one binary serving two kinds": {
			steps: []step{{
				binary:  []string{"storage jsonl 0.1.0", "notifier jsonl 0.1.0"},
				wantOut: []string{"installed storage jsonl", "installed notifier jsonl"},
			}},
			want:      []string{"notifier jsonl 0.1.0", "storage jsonl 0.1.0"},
			wantFiles: 1,
		},
		"update of one kind keeps the binary the other kind still uses": {
			steps: []step{
				{binary: []string{"storage jsonl 0.1.0", "notifier jsonl 0.1.0"}},
				{binary: []string{"storage jsonl 0.2.0"}},
			},
			want:      []string{"notifier jsonl 0.1.0", "storage jsonl 0.2.0"},
			wantFiles: 2,
		},
		"flags after PATH": {
			steps: []step{{
				binary:  []string{"source users 1.0.0"},
				args:    []string{"--timeout", "5s"},
				wantOut: []string{"installed source users 1.0.0"},
			}},
			want:      []string{"source users 1.0.0"},
			wantFiles: 1,
		},
		"a binary that does not start installs nothing": {
			steps: []step{{
				binary:   []string{"fail"},
				wantCode: ExitSomeFailed,
				wantErr:  []string{"did not start as a cscs plugin", "exit status 1", "nothing was installed"},
			}},
		},
		"a failed update keeps the installed version": {
			steps: []step{
				{binary: []string{"storage jsonl 0.1.0"}},
				{binary: []string{"fail"}, wantCode: ExitSomeFailed, wantErr: []string{"nothing was installed"}},
			},
			want:      []string{"storage jsonl 0.1.0"},
			wantFiles: 1,
		},
		"a name that is not lower_snake_case": {
			steps: []step{{
				binary:   []string{"storage JSON-Lines 1.0"},
				wantCode: ExitSomeFailed,
				wantErr:  []string{"describes itself badly", `"JSON-Lines"`, "nothing was installed"},
			}},
		},
		"an unknown kind": {
			steps: []step{{
				binary:   []string{"exporter x 1.0"},
				wantCode: ExitSomeFailed,
				wantErr:  []string{`kind "exporter"`, "nothing was installed"},
			}},
		},
		"serving no kind": {
			steps: []step{{
				binary:   []string{""},
				wantCode: ExitSomeFailed,
				wantErr:  []string{"serves no plugin kind", "nothing was installed"},
			}},
		},
		"a built-in's name is noted": {
			steps: []step{{
				binary:  []string{"storage sqlite 9.0.0"},
				wantOut: []string{"installed storage sqlite 9.0.0"},
				wantErr: []string{"note: storage sqlite is also built into cscs"},
			}},
			want:      []string{"storage sqlite 9.0.0"},
			wantFiles: 1,
		},
		"an unknown flag": {
			steps: []step{{
				binary:   []string{"storage jsonl 0.1.0"},
				args:     []string{"--no-such-flag"},
				wantCode: ExitBadConfig,
				wantErr:  []string{"no-such-flag"},
			}},
		},
	}
	builtins := []builtinPlugin{{kind: "storage", name: "sqlite", version: "1.2.3", protocol: 1}}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			dir := filepath.Join(work, "plugins")
			d := &fakeDescriber{t: t}
			for i, s := range tc.steps {
				src := writeFakePlugin(t, work, "cscs-jsonl", s.binary...)
				args := append([]string{"--plugins-dir", dir, src}, s.args...)
				code, out, errOut := pluginCLI(t, func(env *Env) int {
					return installPlugin(context.Background(), env, fakeDescriberFor(d), builtins)
				}, args...)
				if code != s.wantCode {
					t.Fatalf("step %d: exit %d, want %d; stderr:\n%s", i+1, code, s.wantCode, errOut)
				}
				for _, w := range s.wantOut {
					if !strings.Contains(out, w) {
						t.Errorf("step %d: stdout %q does not contain %q", i+1, out, w)
					}
				}
				for _, w := range s.wantErr {
					if !strings.Contains(errOut, w) {
						t.Errorf("step %d: stderr %q does not contain %q", i+1, errOut, w)
					}
				}
			}
			if tc.want == nil {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("plugins dir %s exists after a failed first install (err %v), want it not created", dir, err)
				}
				return
			}
			m, err := pluginhost.LoadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range m.Plugins {
				got = append(got, e.Kind+" "+e.Name+" "+e.Version)
				if err := pluginhost.VerifyFile(dir, e); err != nil {
					t.Errorf("installed entry does not verify: %v", err)
				}
				if want := "cscs-jsonl-" + e.SHA256[:12]; e.File != want {
					t.Errorf("file %q, want %q", e.File, want)
				}
				if e.InstalledAt.IsZero() {
					t.Errorf("%s has no installed_at", e)
				}
				if runtime.GOOS != "windows" {
					info, err := os.Stat(e.Path(dir))
					if err != nil {
						t.Fatal(err)
					}
					if info.Mode().Perm() != 0o755 {
						t.Errorf("%s: mode %v, want 0755", e.Path(dir), info.Mode().Perm())
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("manifest holds %q, want %q", got, tc.want)
			}
			files, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var binaries []string
			for _, f := range files {
				if f.Name() != pluginhost.ManifestFileName {
					binaries = append(binaries, f.Name())
				}
			}
			if len(binaries) != tc.wantFiles {
				t.Errorf("plugins dir holds %q besides the manifest, want %d binaries and no temporary files", binaries, tc.wantFiles)
			}
		})
	}
}

func TestPluginsInstallUsage(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		args    []string
		wantErr string
	}{
		"no PATH":             {nil, "missing PATH"},
		"two paths":           {[]string{"a", "b"}, `unexpected argument "b"; run ` + "`cscs plugins install --help`"},
		"PATH does not exist": {[]string{"does-not-exist"}, "does-not-exist"},
		"PATH is a directory": {[]string{"."}, "is not a regular file"},
		"zero timeout":        {[]string{"--timeout", "0s", "x"}, "--timeout 0s"},
		"unknown log level":   {[]string{"--log-level", "loud", "x"}, `--log-level "loud"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDescriber{t: t}
			dir := filepath.Join(t.TempDir(), "plugins")
			code, _, errOut := pluginCLI(t, func(env *Env) int {
				return installPlugin(context.Background(), env, fakeDescriberFor(d), nil)
			}, append([]string{"--plugins-dir", dir}, tc.args...)...)
			if code != ExitBadConfig {
				t.Errorf("exit %d, want %d", code, ExitBadConfig)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.wantErr)
			}
			if d.calls != 0 {
				t.Errorf("Describe called %d times on a usage error", d.calls)
			}
		})
	}
}

func TestPluginsInstallKeepsMalformedManifest(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dir := filepath.Join(work, "plugins")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	bad := []byte("{\"version\": 1,\n \"plugins\": [}\n")
	if err := os.WriteFile(filepath.Join(dir, pluginhost.ManifestFileName), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &fakeDescriber{t: t}
	src := writeFakePlugin(t, work, "p", "storage jsonl 1.0.0")
	code, _, errOut := pluginCLI(t, func(env *Env) int {
		return installPlugin(context.Background(), env, fakeDescriberFor(d), nil)
	}, "--plugins-dir", dir, src)
	if code != ExitSomeFailed || !strings.Contains(errOut, "manifest.json:2:") {
		t.Errorf("exit %d, stderr %q; want 1 and the manifest's line", code, errOut)
	}
	if d.calls != 0 {
		t.Error("the plugin was started although the manifest cannot be updated")
	}
	after, _ := os.ReadFile(filepath.Join(dir, pluginhost.ManifestFileName))
	if !bytes.Equal(after, bad) {
		t.Errorf("manifest rewritten to %q", after)
	}
}

func TestPluginsList(t *testing.T) {
	t.Parallel()
	builtins := testBuiltins()
	cases := map[string]struct {
		// damage is done to the installed binary of "storage jsonl".
		damage     func(t *testing.T, path string)
		wantCode   int
		wantStatus string
		wantErr    string
	}{
		"intact": {
			wantStatus: "ok",
		},
		"binary removed": {
			damage: func(t *testing.T, path string) {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: ExitSomeFailed, wantStatus: "file missing",
			wantErr: "reinstall with cscs plugins install",
		},
		"binary replaced": {
			damage: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("something else\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: ExitSomeFailed, wantStatus: "checksum mismatch",
			wantErr: "checksum mismatch",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			dir := filepath.Join(work, "plugins")
			src := writeFakePlugin(t, work, "jsonl", "storage jsonl 0.4.0")
			d := &fakeDescriber{t: t}
			if code, _, errOut := pluginCLI(t, func(env *Env) int {
				return installPlugin(context.Background(), env, fakeDescriberFor(d), nil)
			}, "--plugins-dir", dir, src); code != ExitOK {
				t.Fatalf("install: exit %d: %s", code, errOut)
			}
			m, err := pluginhost.LoadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := m.Find("storage", "jsonl")
			if tc.damage != nil {
				tc.damage(t, e.Path(dir))
			}

			code, out, errOut := pluginCLI(t, func(env *Env) int { return listPlugins(env, builtins) }, "--plugins-dir", dir)
			if code != tc.wantCode {
				t.Errorf("text: exit %d, want %d", code, tc.wantCode)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 4 {
				t.Fatalf("table has %d lines, want header + 3:\n%s", len(lines), out)
			}
			wantFields := [][]string{
				{"KIND", "NAME", "VERSION", "PROTOCOL", "SHA256", "SOURCE", "STATUS"},
				{"source", "cpu", "1.2.3", "1", "-", "builtin", "ok"},
				{"storage", "sqlite", "1.2.3", "1", "-", "builtin", "ok"},
				append([]string{"storage", "jsonl", "0.4.0", "1", e.SHA256[:12], e.Path(dir)}, strings.Fields(tc.wantStatus)...),
			}
			for i, want := range wantFields {
				if got := strings.Fields(lines[i]); !slices.Equal(got, want) {
					t.Errorf("line %d = %q, want %q", i+1, got, want)
				}
			}
			if tc.wantErr != "" && !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.wantErr)
			}

			code, out, _ = pluginCLI(t, func(env *Env) int { return listPlugins(env, builtins) }, "--plugins-dir", dir, "--output", "json")
			if code != tc.wantCode {
				t.Errorf("json: exit %d, want %d", code, tc.wantCode)
			}
			var doc struct {
				PluginsDir string      `json:"plugins_dir"`
				Plugins    []pluginRow `json:"plugins"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("json output: %v\n%s", err, out)
			}
			if doc.PluginsDir != dir || len(doc.Plugins) != 3 {
				t.Fatalf("json: %+v", doc)
			}
			last := doc.Plugins[2]
			if last.Source != e.Path(dir) || last.SHA256 != e.SHA256 || last.Status != tc.wantStatus || (last.Error != "") != (tc.wantErr != "") {
				t.Errorf("json row %+v, want source %s, status %q", last, e.Path(dir), tc.wantStatus)
			}
			if doc.Plugins[0].Source != "builtin" || doc.Plugins[0].SHA256 != "" {
				t.Errorf("json built-in row %+v", doc.Plugins[0])
			}
		})
	}
}

func TestPluginsListEmptyAndBadFlags(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "plugins")
	code, out, _ := pluginCLI(t, func(env *Env) int { return listPlugins(env, nil) }, "--plugins-dir", dir)
	if code != ExitOK || strings.TrimSpace(out) != "KIND  NAME  VERSION  PROTOCOL  SHA256  SOURCE  STATUS" {
		t.Errorf("empty list: exit %d, output %q", code, out)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Error("listing created the plugins directory")
	}
	code, _, errOut := pluginCLI(t, func(env *Env) int { return listPlugins(env, nil) }, "--output", "yaml")
	if code != ExitBadConfig || !strings.Contains(errOut, `--output "yaml"`) {
		t.Errorf("--output yaml: exit %d, stderr %q", code, errOut)
	}
}

func TestPluginsDirDefault(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		args []string
		want string
	}{
		"under the data dir": {[]string{"--data-dir", "/var/lib/cscs"}, filepath.Join("/var/lib/cscs", "plugins")},
		"given":              {[]string{"--data-dir", "/var/lib/cscs", "--plugins-dir", "/opt/p"}, "/opt/p"},
		"from CSCS_DATA_DIR": {nil, filepath.Join("/srv/cscs", "plugins")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := &Env{Args: tc.args, Stderr: &bytes.Buffer{}, Getenv: func(k string) string {
				if k == "CSCS_DATA_DIR" {
					return "/srv/cscs"
				}
				return ""
			}}
			var s settings
			fs := newFlagSet(env, "test")
			s.dataFlags(fs, env)
			dir := s.pluginFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := dir(); got != tc.want {
				t.Errorf("plugins dir = %q, want %q", got, tc.want)
			}
		})
	}
}
