package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestPluginsNewModulesJoinARound writes a module of each kind with
// `cscs plugins new` into a directory outside the repository, depending
// only on the SDK module (its local copy, --sdk): each builds alone and
// passes its tests untouched, installs, and takes part in a round on the
// in-process fleet — the source's metric is collected, the storage gets
// the round, the notifier an alert.
func TestPluginsNewModulesJoinARound(t *testing.T) {
	r := pluginRound(t, "the generated source runs a shell script", "builds three generated modules")
	sdkDir, err := filepath.Abs("../../sdk")
	must(t, err)
	modules := t.TempDir()
	for _, kind := range []string{"source", "storage", "notifier"} {
		dir := filepath.Join(modules, kind)
		code, out, stderr := runMain(context.Background(), "test", "plugins", "new", "--sdk", sdkDir, kind, "probe_"+kind, dir)
		if code != ExitOK || !strings.Contains(out, "make test") {
			t.Fatalf("plugins new %s: exit %d\n%s%s", kind, code, out, stderr)
		}
		// The SDK's checksums, as a module that required it from the
		// module proxy would have them.
		sums, err := os.ReadFile(filepath.Join(sdkDir, "go.sum"))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644))
		goCmd(t, dir, "mod", "tidy")
		goCmd(t, dir, "vet", "./...")
		goCmd(t, dir, "test", "-short", "./...")
		bin := filepath.Join(dir, "probe-"+kind)
		goCmd(t, dir, "build", "-o", bin, ".")
		mustInstall(t, r.dataDir, bin)
	}

	stored, notified := filepath.Join(r.dir, "stored"), filepath.Join(r.dir, "notified.jsonl")
	overlay := filepath.Join(r.dir, "probes.hcl")
	must(t, os.WriteFile(overlay, []byte(fmt.Sprintf(`
storage "probe_storage" "probe" {
  dir = %q
}

notifier "probe_notifier" "probe" {
  path = %q
}

route {
  notifiers = ["probe"]
}

alert "probed" {
  condition = probe_source.tmp_entries >= 0
}
`, stored, notified)), 0o600))
	code, out, stderr := runCLI(t, r.args("--overlay", overlay))
	if code != ExitOK {
		t.Fatalf("round: exit %d\n%s", code, stderr)
	}
	for _, h := range out.Hosts {
		if _, ok := h.Metrics["probe_source.tmp_entries"]; !ok {
			t.Errorf("host %s: no probe_source.tmp_entries; metrics %v, error %q", h.IP, h.Metrics, h.Error)
		}
	}
	round, err := os.ReadFile(filepath.Join(stored, out.RoundID+".json"))
	if err != nil || !bytes.Contains(round, []byte("probe_source.tmp_entries")) {
		t.Errorf("the generated storage did not get the round with the source's metric: %v", err)
	}
	mail, err := os.ReadFile(notified)
	if n := bytes.Count(mail, []byte(`"Kind":"alert"`)); err != nil || n != len(out.Hosts) || !bytes.Contains(mail, []byte("FIRING")) {
		t.Errorf("the generated notifier got %d alerts (%v), want one FIRING per host:\n%s", n, err, mail)
	}
}

// goCmd runs the go command in dir as a module of its own (outside any
// workspace), failing t with its output.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// TestPluginsInstallDev: a development install runs the author's build
// where it is, unpinned, so a rebuild takes effect without reinstalling;
// plugins list says so, validate warns and validate --strict refuses it,
// and plugins remove leaves the build alone.
func TestPluginsInstallDev(t *testing.T) {
	r := pluginRound(t, "the users source runs a shell script", "builds a plugin")
	bin := sdktest.Build(t, "github.com/cscs-dev/cscs/examples/source-users")
	code, out, stderr := runMain(context.Background(), "test", "plugins", "install", "--dev", "--data-dir", r.dataDir, bin)
	if code != ExitOK || !strings.Contains(out, "for development") {
		t.Fatalf("install --dev: exit %d\n%s%s", code, out, stderr)
	}
	// A rebuild: the binary changes.
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString("rebuilt")
	must(t, errors.Join(err, f.Close()))

	if code, list, _ := runMain(context.Background(), "test", "plugins", "list", "--data-dir", r.dataDir); code != ExitOK || !strings.Contains(list, "dev (not pinned)") {
		t.Errorf("plugins list: exit %d, want the users source shown as dev:\n%s", code, list)
	}
	code, res, stderr := runCLI(t, r.args())
	if code != ExitOK {
		t.Fatalf("round with the rebuilt dev plugin: exit %d\n%s", code, stderr)
	}
	for _, h := range res.Hosts {
		if _, ok := h.Metrics["users.logged_in"]; !ok {
			t.Errorf("host %s: no users.logged_in from the dev plugin", h.IP)
		}
	}
	validate := []string{"validate", "--config", r.config, "--data-dir", r.dataDir}
	if code, _, stderr := runMain(context.Background(), "test", validate...); code != ExitOK || !strings.Contains(stderr, "warning: source users (installed with --dev") {
		t.Errorf("validate: exit %d, want 0 with a warning:\n%s", code, stderr)
	}
	if code, _, stderr := runMain(context.Background(), "test", append(validate, "--strict")...); code != ExitBadConfig || !strings.Contains(stderr, "error: source users") {
		t.Errorf("validate --strict: exit %d, want %d refusing the dev plugin:\n%s", code, ExitBadConfig, stderr)
	}
	if code, out, stderr := runMain(context.Background(), "test", "plugins", "remove", "--data-dir", r.dataDir, "users"); code != ExitOK || !strings.Contains(out, "removed source users") {
		t.Fatalf("plugins remove: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Errorf("plugins remove deleted the author's build: %v", err)
	}
}
