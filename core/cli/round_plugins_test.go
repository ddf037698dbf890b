package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestRoundWithExternalPlugins installs three third-party style plugins —
// a source whose module is a shell script, a JSON-lines storage and a
// storage that crashes — and runs a round: the script's metrics reach both
// storages, the crash costs only its own copy (spooled), and the built-in
// SQLite storage is unaffected.
func TestRoundWithExternalPlugins(t *testing.T) {
	r := pluginRound(t, "the users source runs a shell script", "builds three plugins")
	dir := r.dir

	pluginsDir := filepath.Join(r.dataDir, "plugins")
	for _, pkg := range []string{
		"github.com/cscs-dev/cscs/examples/source-users",
		"github.com/cscs-dev/cscs/examples/storage-jsonl",
		"github.com/cscs-dev/cscs/core/internal/testplugins/crashstore",
	} {
		mustInstall(t, r.dataDir, sdktest.Build(t, pkg))
	}
	jsonl := filepath.Join(dir, "rounds.jsonl")
	must(t, os.WriteFile(filepath.Join(pluginsDir, "jsonl.storage.json"), []byte(fmt.Sprintf(`{"path": %q}`, jsonl)), 0o600))

	code, out, stderr := runCLI(t, r.args())
	if code != ExitSomeFailed {
		t.Fatalf("exit %d, want 1 (the crashing storage failed)\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "crashy") || !strings.Contains(stderr, "spooled") {
		t.Errorf("stderr does not say the crashy storage failed and its round was spooled:\n%s", stderr)
	}
	for _, h := range out.Hosts {
		if h.Status != "ok" {
			t.Fatalf("host %s: %s %s", h.IP, h.Status, h.Error)
		}
		if _, ok := h.Metrics["users.logged_in"]; !ok {
			t.Errorf("host %s: no users.logged_in from the script module; metrics %v, error %q", h.IP, h.Metrics, h.Error)
		}
		if _, ok := h.Metrics["cpu.percent"]; !ok {
			t.Errorf("host %s: built-in cpu missing", h.IP)
		}
	}

	db := openDB(t, "sqlite3", r.db)
	if n := queryInt(t, db, `SELECT count(*) FROM samples WHERE metric = 'users.logged_in' AND unit = 'count'`); n != 2 {
		t.Errorf("sqlite has %d users.logged_in samples, want 2", n)
	}
	f, err := os.Open(jsonl)
	must(t, err)
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if strings.Contains(sc.Text(), "users.logged_in") {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("jsonl has %d lines with users.logged_in, want 2", lines)
	}
	spooled, _ := filepath.Glob(filepath.Join(r.dataDir, "spool", "crashy", "*.age"))
	if len(spooled) != 1 {
		t.Errorf("crashy spool holds %d rounds, want 1", len(spooled))
	}

	// The jsonl plugin's binary disappears: the next round names it, goes
	// on, and keeps jsonl's copy of the round in its spool.
	man, err := pluginhost.LoadManifest(pluginsDir)
	must(t, err)
	e, ok := man.Find("storage", "jsonl")
	if !ok {
		t.Fatal("jsonl not in the manifest")
	}
	must(t, os.Remove(e.Path(pluginsDir)))
	code, out, stderr = runCLI(t, r.args())
	if code != ExitSomeFailed || out.Counts["ok"] != 2 {
		t.Fatalf("round 2: exit %d, counts %v\n%s", code, out.Counts, stderr)
	}
	if !strings.Contains(stderr, "storage plugin jsonl") {
		t.Errorf("round 2 does not name the missing jsonl plugin:\n%s", stderr)
	}
	if got, _ := filepath.Glob(filepath.Join(r.dataDir, "spool", "jsonl", "*.age")); len(got) != 1 {
		t.Errorf("jsonl spool holds %d rounds, want 1", len(got))
	}
	if got, _ := filepath.Glob(filepath.Join(r.dataDir, "spool", "crashy", "*.age")); len(got) != 2 {
		t.Errorf("crashy spool holds %d rounds, want 2", len(got))
	}
	if n := queryInt(t, db, `SELECT count(*) FROM collections WHERE status = 'ok'`); n != 4 {
		t.Errorf("sqlite has %d ok collections after two rounds, want 4", n)
	}
}

// TestRoundWithPluginBundle installs a binary serving two sources and a
// storage: install records three entries for the one file, and a round
// starts the binary once and gets both sources' metrics into the storage.
func TestRoundWithPluginBundle(t *testing.T) {
	r := pluginRound(t, "the bundle's sources run shell scripts", "builds a plugin")
	starts := filepath.Join(r.dir, "starts")
	mustInstall(t, r.dataDir, sdktest.Build(t, "github.com/cscs-dev/cscs/core/internal/testplugins/bundle", "-ldflags", "-X main.startLog="+starts))
	pluginsDir := filepath.Join(r.dataDir, "plugins")
	man, err := pluginhost.LoadManifest(pluginsDir)
	must(t, err)
	var got []string
	for _, e := range man.Plugins {
		got = append(got, e.String()+"/"+e.Member)
		if e.File != man.Plugins[0].File {
			t.Errorf("entry %s points to %s, not the bundle's one file %s", e, e.File, man.Plugins[0].File)
		}
	}
	if want := []string{"source north/north", "source south/south", "storage bundle_store/"}; !slices.Equal(got, want) {
		t.Fatalf("manifest entries %v, want %v", got, want)
	}
	code, list, errList := pluginMain(t, "plugins", "list", "--data-dir", r.dataDir)
	if code != ExitOK || !strings.Contains(list, "(as north)") || !strings.Contains(list, "(as south)") {
		t.Errorf("plugins list: exit %d, want the bundle's sources with their member names:\n%s%s", code, list, errList)
	}
	stored := filepath.Join(r.dir, "stored")
	must(t, os.WriteFile(filepath.Join(pluginsDir, "bundle_store.storage.json"), []byte(fmt.Sprintf(`{"path": %q}`, stored)), 0o600))
	startsBefore := countLines(t, starts)

	code, out, errOut := runCLI(t, r.args())
	if code != ExitOK {
		t.Fatalf("round: exit %d\n%s", code, errOut)
	}
	for _, h := range out.Hosts {
		if h.Metrics["north.value"] != 1 || h.Metrics["south.value"] != 2 {
			t.Errorf("host %s: north.value %v, south.value %v; want 1 and 2 (metrics %v, error %q)",
				h.IP, h.Metrics["north.value"], h.Metrics["south.value"], h.Metrics, h.Error)
		}
	}
	if n := countLines(t, starts) - startsBefore; n != 1 {
		t.Errorf("the round started the bundle %d times, want once for its three plugins", n)
	}
	data, err := os.ReadFile(stored)
	must(t, err)
	rows := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(rows) != len(out.Hosts) {
		t.Fatalf("bundle_store got %d collections, want %d:\n%s", len(rows), len(out.Hosts), data)
	}
	for _, row := range rows {
		if !strings.Contains(row, "north.value") || !strings.Contains(row, "south.value") || !strings.Contains(row, "cpu.percent") {
			t.Errorf("bundle_store row %q lacks a source's metric", row)
		}
	}
}

// pluginRound is fleetRound for a test of plugins whose sources run shell
// scripts: it skips the test off Linux (saying why) and with -short
// (saying what it costs).
func pluginRound(t *testing.T, linuxOnly, costly string) roundEnv {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip(linuxOnly)
	}
	skipShort(t, costly)
	r, _ := fleetRound(t, "")
	return r
}

// countLines counts the lines of path (0 when it does not exist).
func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	must(t, err)
	return strings.Count(string(data), "\n")
}

// TestBrokenPluginsLeftOut breaks two installed plugins the overlay
// names — a source (its group, its module settings, an expression rule and
// a config.xml rule use it) and a notifier that an alert is routed to —
// by changing their binaries. The round goes on without them and exits 1
// with warnings that name them and the fix; the alert for the notifier
// waits in the outbox and `cscs validate` reports both as errors. Once
// they are reinstalled, the next round collects the source and delivers
// the waiting notification.
func TestBrokenPluginsLeftOut(t *testing.T) {
	r := pluginRound(t, "the users source runs a shell script", "builds two plugins")
	pluginsDir := filepath.Join(r.dataDir, "plugins")
	bins := map[string]string{
		"users":   sdktest.Build(t, "github.com/cscs-dev/cscs/examples/source-users"),
		"webhook": sdktest.Build(t, "github.com/cscs-dev/cscs/examples/notifier-webhook"),
	}
	for _, bin := range bins {
		mustInstall(t, r.dataDir, bin)
	}
	var hooks atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hooks.Add(1) }))
	defer hook.Close()
	overlayPath := filepath.Join(r.dir, "broken.hcl")
	must(t, os.WriteFile(overlayPath, []byte(fmt.Sprintf(`
group "all" {
  ips     = ["127.0.0.0/8"]
  sources = ["cpu", "users"]

  alert "crowded" {
    condition = users.logged_in > 1000
  }

  alert "alive" {
    condition = cpu.percent >= 0
  }
}

notifier "webhook" "chat" {
  url = %q
}

route {
  notifiers = ["chat"]
}
`, hook.URL)), 0o600))
	config, err := os.ReadFile(r.config)
	must(t, err)
	r.writeConfig(t, strings.ReplaceAll(string(config), `mail="ops@example.com"/>`, `mail="ops@example.com"><alert type="users" limit=">1000"/></client>`))

	man, err := pluginhost.LoadManifest(pluginsDir)
	must(t, err)
	for name := range bins {
		var e pluginhost.Entry
		for _, kind := range []string{"source", "notifier"} {
			if found, ok := man.Find(kind, name); ok {
				e = found
			}
		}
		f, err := os.OpenFile(e.Path(pluginsDir), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteString("tampered")
		must(t, errors.Join(err, f.Close()))
	}

	args := r.args("--overlay", overlayPath)
	code, out, stderr := runCLI(t, args)
	if code != ExitSomeFailed || out.Counts["ok"] != 2 {
		t.Fatalf("exit %d, counts %v; want 1 with both hosts ok\n%s", code, out.Counts, stderr)
	}
	for _, want := range []string{
		`Cannot use source "users": left out of this round`, `Cannot use notifier plugin "webhook": left out of this round`,
		"checksum mismatch", "cscs plugins install", `alert type "users" is not declared by any source that started`,
		"notifier chat (webhook): left out of this round, the notifications wait in the outbox",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, h := range out.Hosts {
		if _, ok := h.Metrics["cpu.percent"]; !ok || h.Metrics["users.logged_in"] != 0 {
			t.Errorf("host %s: metrics %v; want cpu.percent and no users.logged_in", h.IP, h.Metrics)
		}
	}
	stateDB := openDB(t, "sqlite3", state.Path(r.dataDir))
	if n := queryInt(t, stateDB, `SELECT count(*) FROM notifications WHERE channel = 'chat' AND status = 'pending'`); n != 2 {
		t.Errorf("%d notifications wait in the outbox for chat, want one per host", n)
	}
	validate := []string{"validate", "--config", r.config, "--data-dir", r.dataDir, "--overlay", overlayPath}
	if code, _, stderr := runMain(context.Background(), "test", validate...); code != ExitBadConfig ||
		!strings.Contains(stderr, `Cannot use source "users"`) || !strings.Contains(stderr, `Cannot use notifier plugin "webhook"`) {
		t.Errorf("validate: exit %d, want %d with both plugins as errors:\n%s", code, ExitBadConfig, stderr)
	}

	for _, bin := range bins {
		mustInstall(t, r.dataDir, bin)
	}
	code, out, stderr = runCLI(t, args)
	if code != ExitOK {
		t.Fatalf("after reinstalling: exit %d\n%s", code, stderr)
	}
	for _, h := range out.Hosts {
		if _, ok := h.Metrics["users.logged_in"]; !ok {
			t.Errorf("host %s: no users.logged_in after reinstalling; metrics %v", h.IP, h.Metrics)
		}
	}
	if n := queryInt(t, stateDB, `SELECT count(*) FROM notifications WHERE channel = 'chat' AND status = 'sent'`); n != 2 || hooks.Load() != 2 {
		t.Errorf("%d chat notifications sent, the hook got %d; want the two that waited", n, hooks.Load())
	}
}
