package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageHoldsWhatTheUnitNames: every path cscs.service names is one the
// Debian package (nfpm.yaml) installs, and the agent directory is the one a
// /usr/bin/cscs finds without --agent-dir (agentstore.DefaultDir: ../lib/cscs/agents).
func TestPackageHoldsWhatTheUnitNames(t *testing.T) {
	data, err := os.ReadFile("nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dsts := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if d, ok := strings.CutPrefix(strings.TrimPrefix(strings.TrimSpace(line), "- "), "dst: "); ok {
			dsts[strings.TrimSpace(d)] = true
		}
	}
	u := readUnit(t, unitPath)
	args := strings.Fields(u.one(t, "Service.ExecStart"))
	flags := flagValues(args[2:])
	doc, ok := strings.CutPrefix(u.one(t, "Unit.Documentation"), "file:")
	if !ok {
		t.Fatalf("Documentation=%q is not a file: URL", u.one(t, "Unit.Documentation"))
	}
	want := []string{
		args[0],
		flags["--agent-dir"],
		flags["--config"],
		flags["--email-config"],
		flags["--overlay"],
		u.one(t, "Service.WorkingDirectory"),
		"/usr/lib/systemd/system/cscs.service",
		"/usr/lib/sysusers.d/cscs.conf",
		"/usr/lib/tmpfiles.d/cscs.conf",
	}
	for _, p := range want {
		if !dsts[p] {
			t.Errorf("nfpm.yaml installs nothing at %s", p)
		}
	}
	// The documentation is a tree: its directory is a dst.
	if !dsts[filepath.Dir(doc)] {
		t.Errorf("nfpm.yaml installs nothing in %s (the unit's Documentation=)", filepath.Dir(doc))
	}
	if got := filepath.Join(filepath.Dir(args[0]), "..", "lib", "cscs", "agents"); got != flags["--agent-dir"] {
		t.Errorf("--agent-dir %s is not where %s finds agents by itself (%s)", flags["--agent-dir"], args[0], got)
	}
	for _, script := range []string{"deb/postinst", "deb/postrm"} {
		if !strings.Contains(string(data), "packaging/"+script) {
			t.Errorf("nfpm.yaml does not run %s", script)
		}
		st, err := os.Stat(script)
		if err != nil || st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is missing or not executable: %v", script, err)
		}
	}
}
