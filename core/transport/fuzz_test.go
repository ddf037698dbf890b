package transport

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzDigest is an agent SHA-256 for the run commands the fuzz targets build.
var fuzzDigest = strings.Repeat("ab", 32)

// checkProbeError checks that an error quoting a probe's output is short,
// printable text: the output comes from the host.
func checkProbeError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !utf8.ValidString(msg) || strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) || len(msg) > 2048 {
		t.Errorf("error is not short printable text: %q", msg)
	}
}

// addWindowsFixtures adds testdata/windows/*.txt, what real shells printed.
func addWindowsFixtures(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "windows", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no Windows probe fixtures: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkWindowsPlatform checks a Platform built from a Windows probe: a
// known architecture, a user name without control characters, and a
// remote directory that turns into a plain Windows path and a run command
// for the agent in it.
func checkWindowsPlatform(t *testing.T, p Platform, needTemp bool) {
	t.Helper()
	if p.OS != "windows" || !slices.Contains([]string{"amd64", "arm64", "386"}, p.Arch) ||
		(p.Shell != ShellCmd && p.Shell != ShellPowerShell) {
		t.Errorf("platform %+v", p)
	}
	if p.UID == "" || hasControl(p.UID) || len(p.UID) > 256 || strings.HasPrefix(p.UID, "%") {
		t.Errorf("user name %q accepted", p.UID)
	}
	if !needTemp {
		return
	}
	exe := p.RemoteDir + "/cscs-agent.exe"
	win, err := windowsPath(exe)
	if err != nil {
		t.Fatalf("remote directory %q accepted, but the agent's path in it is refused: %v", p.RemoteDir, err)
	}
	if strings.ContainsAny(win, cmdSpecial) || strings.Contains(win, `\..\`) {
		t.Errorf("agent path %q holds characters a shell interprets", win)
	}
	if _, err := windowsRunCommand(p, exe, fuzzDigest); err != nil {
		t.Errorf("no run command for %q: %v", exe, err)
	}
}

// FuzzParsePosixProbe reads fuzzed output of the POSIX platform probe.
// Properties: no panic; a Platform or an error; an error is printable
// text; a Platform is Linux or macOS on a known architecture, with a
// numeric uid and a clean absolute remote directory without control
// characters, named after the uid.
func FuzzParsePosixProbe(f *testing.F) {
	for _, s := range []string{
		"Linux\nx86_64\n1001\nposix\n/tmp\n",
		"Darwin\narm64\n501\nother\n/var/folders/x/T/\n",
		"Linux\naarch64\n7\nother\n/tmp/a\nb\n",
		"Linux\nx86_64\n7\nother\n/tmp/\x1b[0m\n",
		"MINGW64_NT-10.0\nx86_64\n197609\nposix\n/tmp\n",
		"Linux\nmips\n0\nposix\n/tmp\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		p, err := parsePosixProbe(out)
		if err != nil {
			checkProbeError(t, err)
			if p != (Platform{}) {
				t.Errorf("platform %+v with error %v", p, err)
			}
			return
		}
		if (p.OS != "linux" && p.OS != "darwin") || !slices.Contains([]string{"amd64", "arm64", "386", "arm"}, p.Arch) ||
			(p.Shell != "" && p.Shell != ShellPOSIX) {
			t.Errorf("platform %+v", p)
		}
		if _, err := strconv.ParseUint(p.UID, 10, 32); err != nil {
			t.Errorf("uid %q accepted", p.UID)
		}
		if !path.IsAbs(p.RemoteDir) || path.Clean(p.RemoteDir) != p.RemoteDir || hasControl(p.RemoteDir) ||
			path.Base(p.RemoteDir) != "cscs-"+p.UID || len(p.RemoteDir) > 1100 {
			t.Errorf("remote directory %q accepted", p.RemoteDir)
		}
	})
}

// FuzzParseWindowsProbe reads fuzzed output of the Windows probe (as
// cmd.exe or PowerShell runs it). Properties: no panic; an error is
// printable text; PowerShell is recognised with no fields; cmd.exe's
// fields make either an error or a Platform of checkWindowsPlatform, with
// a remote directory that gives a plain path and a run command.
func FuzzParseWindowsProbe(f *testing.F) {
	addWindowsFixtures(f)
	f.Fuzz(func(t *testing.T, out []byte) {
		r, err := parseWindowsProbe(out)
		if err != nil {
			checkProbeError(t, err)
			return
		}
		switch r.shell {
		case ShellPowerShell:
			if r != (windowsProbeResult{shell: ShellPowerShell}) {
				t.Errorf("PowerShell with fields %+v", r)
			}
			return
		case ShellCmd:
		default:
			t.Fatalf("shell %q", r.shell)
		}
		for _, needTemp := range []bool{true, false} {
			p, err := windowsPlatform(r, needTemp)
			if err != nil {
				checkProbeError(t, err)
				continue
			}
			checkWindowsPlatform(t, p, needTemp)
		}
	})
}

// FuzzParsePowerShellProbe reads fuzzed output of the PowerShell probe,
// whose TEMP and USERNAME come as UTF-16 code units. Properties: those of
// FuzzParseWindowsProbe; decoded values are valid UTF-8 of at most 1024
// code units.
func FuzzParsePowerShellProbe(f *testing.F) {
	addWindowsFixtures(f)
	f.Fuzz(func(t *testing.T, out []byte) {
		r, err := parsePowerShellProbe(out)
		if err != nil {
			checkProbeError(t, err)
			return
		}
		if r.shell != ShellPowerShell || !strings.EqualFold(r.os, "Windows_NT") {
			t.Errorf("probe read as %+v", r)
		}
		for _, s := range []string{r.temp, r.user} {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxCodeUnits {
				t.Errorf("decoded value %q", s)
			}
		}
		for _, needTemp := range []bool{true, false} {
			p, err := windowsPlatform(r, needTemp)
			if err != nil {
				checkProbeError(t, err)
				continue
			}
			checkWindowsPlatform(t, p, needTemp)
		}
	})
}
