// Package packaging holds the files a distribution package installs besides
// the binaries (systemd/, sysusers.d/, tmpfiles.d/); its tests check them
// against the cscs command they start.
package packaging

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/cli"
)

const unitPath = "systemd/cscs.service"

// unit is a parsed systemd unit file: "Section.Key" → every value given,
// in order, with continuation lines joined.
type unit map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the unit: %v", err)
	}
	u := unit{}
	section, pending := "", ""
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if pending == "" && (line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s line %d: %q is neither a section, a comment nor Key=Value", path, n+1, line)
		}
		u[section+"."+key] = append(u[section+"."+key], value)
	}
	return u
}

// one is the single value of key; it fails the test when the key is absent
// or given more than once.
func (u unit) one(t *testing.T, key string) string {
	t.Helper()
	v := u[key]
	if len(v) != 1 {
		t.Fatalf("%s: want one value, the unit has %q", key, v)
	}
	return v[0]
}

// TestUnitStartsServeWithItsFlags: ExecStart runs `cscs serve` with flags
// its own flag set accepts (parsed by cli.Main up to a final -h), and the
// paths it names agree with the unit's directories.
func TestUnitStartsServeWithItsFlags(t *testing.T) {
	u := readUnit(t, unitPath)
	args := strings.Fields(u.one(t, "Service.ExecStart"))
	if len(args) < 2 || args[0] != "/usr/bin/cscs" || args[1] != "serve" {
		t.Fatalf("ExecStart = %q, want /usr/bin/cscs serve …", args)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), append(args[1:], "-h"), "test", strings.NewReader(""), &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("cscs %s -h: exit %d, the flags of ExecStart do not parse:\n%s", strings.Join(args[1:], " "), code, stderr.String())
	}
	flags := flagValues(args[2:])
	tests := []struct {
		flag, want string
	}{
		{"--data-dir", "/var/lib/" + u.one(t, "Service.StateDirectory")},
		{"--db", "/var/lib/" + u.one(t, "Service.StateDirectory") + "/cscs.db"},
		{"--config", u.one(t, "Service.WorkingDirectory") + "/config.xml"},
		{"--email-config", u.one(t, "Service.WorkingDirectory") + "/email_config.json"},
		{"--overlay", u.one(t, "Service.WorkingDirectory") + "/overlays"},
		{"--log-format", "json"},
	}
	for _, tc := range tests {
		if got := flags[tc.flag]; got != tc.want {
			t.Errorf("ExecStart %s = %q, want %q", tc.flag, got, tc.want)
		}
	}
}

// flagValues maps each "--name value" pair of args to its value.
func flagValues(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		out[args[i]] = args[i+1]
	}
	return out
}

// TestUnitHardening: the unit runs as its own user with the hardening the
// issue asks for, reloads with SIGHUP and leaves the plugins alive until
// cscs has stored the stopping round.
func TestUnitHardening(t *testing.T) {
	u := readUnit(t, unitPath)
	tests := []struct {
		key, want string
	}{
		{"Service.User", "cscs"},
		{"Service.StateDirectory", "cscs"},
		{"Service.StateDirectoryMode", "0700"},
		{"Service.WorkingDirectory", "/etc/cscs"},
		{"Service.ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service.Restart", "on-failure"},
		{"Service.RestartPreventExitStatus", "2"},
		{"Service.KillMode", "mixed"},
		{"Service.TimeoutStopSec", "60"},
		{"Service.NoNewPrivileges", "yes"},
		{"Service.CapabilityBoundingSet", ""},
		{"Service.ProtectSystem", "strict"},
		{"Service.ProtectHome", "yes"},
		{"Service.PrivateTmp", "yes"},
		{"Service.PrivateDevices", "yes"},
		{"Service.ProtectKernelTunables", "yes"},
		{"Service.ProtectKernelModules", "yes"},
		{"Service.ProtectKernelLogs", "yes"},
		{"Service.ProtectControlGroups", "yes"},
		{"Service.RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Service.RestrictNamespaces", "yes"},
		{"Service.SystemCallFilter", "@system-service"},
		{"Service.LockPersonality", "yes"},
		{"Service.MemoryDenyWriteExecute", "yes"},
		{"Service.UMask", "0077"},
		{"Install.WantedBy", "multi-user.target"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := u.one(t, tc.key); got != tc.want {
				t.Errorf("%s=%q, want %q", tc.key, got, tc.want)
			}
		})
	}
	for _, key := range []string{"Service.DynamicUser", "Service.ReadOnlyPaths", "Service.NoExecPaths"} {
		if v, ok := u[key]; ok {
			t.Errorf("%s=%q: the plugins in the state directory must stay executable and the user fixed", key, v)
		}
	}
}

// TestUnitVerifies runs systemd's own checks: `systemd-analyze verify` on
// the unit (ExecStart pointed at an existing executable, since
// /usr/bin/cscs is not installed here), and systemd-sysusers and
// systemd-tmpfiles on their snippets inside a scratch root.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd); the unit is not verified")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unitCopy := filepath.Join(dir, "cscs.service")
	if err := os.WriteFile(unitCopy, bytes.ReplaceAll(data, []byte("/usr/bin/cscs"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, true, analyze, "verify", "--man=no", unitCopy)

	// tmpfiles.d names the cscs group that sysusers.d creates.
	sysusers, errUsers := exec.LookPath("systemd-sysusers")
	tmpfiles, errFiles := exec.LookPath("systemd-tmpfiles")
	if errUsers != nil || errFiles != nil {
		t.Logf("systemd-sysusers or systemd-tmpfiles is missing; their snippets are not checked")
		return
	}
	// The tools read a relative path inside --root: give them absolute ones.
	usersConf, err := filepath.Abs("sysusers.d/cscs.conf")
	if err != nil {
		t.Fatal(err)
	}
	filesConf, err := filepath.Abs("tmpfiles.d/cscs.conf")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, false, sysusers, "--root", root, usersConf)
	if passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd")); err != nil || !strings.Contains(string(passwd), "cscs:x:") {
		t.Errorf("systemd-sysusers made no cscs user (%v):\n%s", err, passwd)
	}
	run(t, false, tmpfiles, "--root", root, "--create", filesConf)
	if st, err := os.Stat(filepath.Join(root, "etc", "cscs", "overlays")); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
		t.Errorf("systemd-tmpfiles did not make /etc/cscs/overlays a 0750 directory: %v", err)
	}
}

// run runs a systemd tool; it fails the test when the tool fails, or says
// anything when silent is set (systemd-analyze verify warns on stderr and
// still exits 0).
func run(t *testing.T, silent bool, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	if err != nil || silent && len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}
