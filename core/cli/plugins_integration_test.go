package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// pluginMain runs cscs with args through Main, as the binary would.
func pluginMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return runMain(ctx, "9.9.9", args...)
}

// launchStorage launches the storage plugin of spec as the core does; it
// is killed when the test ends.
func launchStorage(ctx context.Context, t *testing.T, spec pluginhost.Spec) storage.Storage {
	t.Helper()
	p, err := pluginhost.Launch(ctx, spec, pluginhost.Options{})
	if err != nil {
		t.Fatalf("launching %s %s: %v", spec.Path, strings.Join(spec.Args, " "), err)
	}
	t.Cleanup(p.Kill)
	s, err := p.Storage()
	must(t, err)
	return s
}

// TestIntegrationPluginsInstallAndList installs a real plugin binary built
// from core/internal/testplugins/memstorage (it serves a storage through sdkplugin.Serve),
// upgrades it, lists it, and refuses binaries that are no plugins.
func TestIntegrationPluginsInstallAndList(t *testing.T) {
	skipShort(t, "builds a plugin binary; skipped with -short")
	v1 := sdktest.Build(t, "github.com/cscs-dev/cscs/core/internal/testplugins/memstorage", "-ldflags", "-X main.version=0.1.0")
	v2 := sdktest.Build(t, "github.com/cscs-dev/cscs/core/internal/testplugins/memstorage", "-ldflags", "-X main.version=0.2.0")
	dir := filepath.Join(t.TempDir(), "plugins")

	code, out, errOut := pluginMain(t, "plugins", "install", "--plugins-dir", dir, v1)
	if code != ExitOK || !strings.Contains(out, "installed storage memstore 0.1.0 (protocol 1)") {
		t.Fatalf("install v1: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	m, err := pluginhost.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, ok := m.Find("storage", "memstore")
	if !ok || len(m.Plugins) != 1 {
		t.Fatalf("manifest after install: %+v", m.Plugins)
	}
	if sum, err := pluginhost.FileSHA256(v1); err != nil || sum != first.SHA256 {
		t.Errorf("pinned sha256 %s, the built binary has %s (%v)", first.SHA256, sum, err)
	}

	code, out, errOut = pluginMain(t, "plugins", "install", "--plugins-dir", dir, v2)
	if code != ExitOK || !strings.Contains(out, "updated storage memstore 0.1.0 → 0.2.0") {
		t.Fatalf("install v2: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if _, err := os.Stat(first.Path(dir)); !os.IsNotExist(err) {
		t.Errorf("the replaced binary %s is still there (err %v)", first.Path(dir), err)
	}

	code, out, errOut = pluginMain(t, "plugins", "list", "--plugins-dir", dir, "--output", "json")
	if code != ExitOK {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	var doc struct {
		Plugins []pluginRow `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("list json: %v\n%s", err, out)
	}
	n := len(doc.Plugins)
	if n < 2 {
		t.Fatalf("list shows %d plugins, want the built-ins and memstore:\n%s", n, out)
	}
	sawSQLite := false
	for _, r := range doc.Plugins[:n-1] {
		if r.Source != "builtin" || r.Version != "9.9.9" || r.Protocol != 1 || r.Status != "ok" {
			t.Errorf("built-in row %+v, want builtin, version 9.9.9, protocol 1, ok", r)
		}
		sawSQLite = sawSQLite || (r.Kind == "storage" && r.Name == "sqlite")
	}
	if !sawSQLite {
		t.Error("list does not show the built-in storage sqlite")
	}
	last := doc.Plugins[n-1]
	if last.Kind != "storage" || last.Name != "memstore" || last.Version != "0.2.0" || last.Protocol != 1 || last.Status != "ok" || !strings.HasPrefix(last.Source, dir) {
		t.Errorf("installed row %+v", last)
	}

	// The installed copy really serves: launch it as a round would, pinned.
	m, err = pluginhost.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := m.Find("storage", "memstore")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := launchStorage(ctx, t, pluginhost.Spec{Kind: e.Kind, Name: e.Name, Path: e.Path(dir), SHA256: e.SHA256})
	sdktest.StorageConformance(t, s, []byte(`{}`))
}

// TestIntegrationPluginsInstallRefusesNonPlugins installs programs that
// are no plugins: each fails with a clear error and writes nothing.
func TestIntegrationPluginsInstallRefusesNonPlugins(t *testing.T) {
	skipShort(t, "starts programs; skipped with -short")
	if runtime.GOOS == "windows" {
		t.Skip("uses shell scripts")
	}
	cases := map[string]struct {
		script  string
		wantErr []string
	}{
		"prints something else": {
			script:  "#!/bin/sh\necho hello\n",
			wantErr: []string{"did not start as a cscs plugin", "not a cscs plugin", `printed "hello"`, "nothing was installed"},
		},
		"exits at once": {
			script:  "#!/bin/sh\necho 'cannot open config' >&2\nexit 3\n",
			wantErr: []string{"did not start as a cscs plugin", "exit status 3", "nothing was installed"},
		},
		"hangs before the handshake": {
			script:  "#!/bin/sh\nexec sleep 30\n",
			wantErr: []string{"did not start as a cscs plugin", "nothing was installed"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			src := filepath.Join(work, "not-a-plugin")
			if err := os.WriteFile(src, []byte(tc.script), 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(work, "plugins")
			code, out, errOut := pluginMain(t, "plugins", "install", "--plugins-dir", dir, "--timeout", "3s", src)
			if code != ExitSomeFailed {
				t.Errorf("exit %d, want %d; stdout %q", code, ExitSomeFailed, out)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not contain %q", errOut, w)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("plugins dir exists after a refused install (err %v)", err)
			}
		})
	}
}

// TestIntegrationPluginServeBuiltin builds cscs and launches its built-in
// SQLite storage the way the core does: `cscs plugin serve storage sqlite`.
func TestIntegrationPluginServeBuiltin(t *testing.T) {
	skipShort(t, "builds cscs; skipped with -short")
	cscs := sdktest.Build(t, "github.com/cscs-dev/cscs/core/cmd/cscs", "-ldflags", "-X main.version=7.7.7")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := launchStorage(ctx, t, pluginhost.Spec{Kind: "storage", Name: "sqlite", Path: cscs, Args: []string{"plugin", "serve", "storage", "sqlite"}})
	d, err := s.Describe(ctx)
	if err != nil || d.Name != "sqlite" || d.Version != "7.7.7" {
		t.Fatalf("Describe = %+v, %v; want sqlite 7.7.7", d, err)
	}
	cfg, _ := json.Marshal(map[string]string{"path": filepath.Join(t.TempDir(), "cscs.db")})
	sdktest.StorageConformance(t, s, cfg)
}

func TestPluginServeUnknownBuiltin(t *testing.T) {
	t.Parallel()
	code, out, errOut := pluginMain(t, "plugin", "serve", "storage", "nope")
	if code != ExitBadConfig {
		t.Errorf("exit %d, want %d", code, ExitBadConfig)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	for _, w := range []string{`no built-in storage plugin "nope"`, "storage sqlite", "notifier smtp"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr %q does not contain %q", errOut, w)
		}
	}
}
