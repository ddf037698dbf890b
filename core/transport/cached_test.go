//go:build !windows

package transport

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// localPlatform is this machine as Detect would see it, with dir as the
// remote directory.
func localPlatform(t testing.TB, dir string) Platform {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", posixProbe).Output()
	if err != nil {
		t.Skipf("cannot probe this machine: %v", err)
	}
	p, err := parsePosixProbe(out)
	if err != nil {
		t.Skipf("this machine's platform is not one the agent exists for: %v", err)
	}
	p.RemoteDir = dir
	return p
}

// cachedCase is a remote directory's state for RunCached's command and
// what the command must do.
type cachedCase struct {
	// layout changes the directory after both files were put in place.
	layout     func(t *testing.T, dir, agentPath, modulePath string)
	wantStatus int
	wantRan    bool
	wantProbe  bool // stdout is the platform probe
}

// TestCachedRunCommandOnThisMachine runs RunCached's command with the local
// /bin/sh against a remote directory laid out as each case says.
func TestCachedRunCommandOnThisMachine(t *testing.T) {
	// The agent leaves a mark next to itself, so a test can tell it ran.
	agent := Artifact{Name: "cscs-agent", Data: []byte("#!/bin/sh\ntouch \"$0.ran\"\ncat\n")}
	module := Artifact{Name: "users.sh", Data: []byte("#!/bin/sh\necho '{}'\n")}
	tests := map[string]cachedCase{
		"in place":              {wantRan: true},
		"agent missing":         {layout: func(t *testing.T, _, a, _ string) { must(t, os.Remove(a)) }, wantStatus: NotInPlaceExitCode, wantProbe: true},
		"module missing":        {layout: func(t *testing.T, _, _, m string) { must(t, os.Remove(m)) }, wantStatus: NotInPlaceExitCode, wantProbe: true},
		"directory not private": {layout: func(t *testing.T, d, _, _ string) { must(t, os.Chmod(d, 0o755)) }, wantStatus: NotInPlaceExitCode, wantProbe: true},
		"directory missing":     {layout: func(t *testing.T, d, _, _ string) { must(t, os.RemoveAll(d)) }, wantStatus: NotInPlaceExitCode, wantProbe: true},
		"directory is a symbolic link": {
			layout: func(t *testing.T, d, _, _ string) {
				must(t, os.Rename(d, d+"-real"))
				must(t, os.Symlink(d+"-real", d))
			},
			wantStatus: NotInPlaceExitCode, wantProbe: true,
		},
		"agent is a symbolic link": {
			layout: func(t *testing.T, d, a, _ string) {
				elsewhere := filepath.Join(filepath.Dir(d), "elsewhere")
				must(t, os.Rename(a, elsewhere))
				must(t, os.Symlink(elsewhere, a))
			},
			wantStatus: NotInPlaceExitCode, wantProbe: true,
		},
		"agent tampered, same size": {
			layout: func(t *testing.T, _, a, _ string) {
				must(t, os.WriteFile(a, bytes.Replace(agent.Data, []byte("cat"), []byte("id "), 1), 0o700))
			},
			wantStatus: ChecksumExitCode,
		},
	}
	// The login shells sshd may hand the command to: a POSIX one reads
	// the script itself, another gets it through /bin/sh.
	loginShells := []struct{ name, path, shell string }{
		{"sh login shell", "/bin/sh", ShellPOSIX},
		{"bash login shell", "/bin/bash", ShellPOSIX},
		{"other login shell", "/bin/sh", ""},
	}
	for name, tc := range tests {
		for _, login := range loginShells {
			t.Run(name+"/"+login.name, func(t *testing.T) {
				if _, err := os.Stat(login.path); err != nil {
					t.Skipf("no %s here", login.path)
				}
				testCachedRunCommand(t, agent, module, login.path, login.shell, tc)
			})
		}
	}
}

// testCachedRunCommand lays out a remote directory, changes it with layout,
// and runs RunCached's command for a platform with the given Shell as
// loginShell would (loginShell -c command).
func testCachedRunCommand(t *testing.T, agent, module Artifact, loginShell, shell string, tc cachedCase) {
	dir := filepath.Join(t.TempDir(), "cscs-test")
	must(t, os.Mkdir(dir, 0o700))
	p := localPlatform(t, dir)
	p.Shell = shell
	agentPath, err := agent.RemotePath(p)
	must(t, err)
	modulePath, err := module.RemotePath(p)
	must(t, err)
	must(t, os.WriteFile(agentPath, agent.Data, 0o700))
	must(t, os.WriteFile(modulePath, module.Data, 0o700))
	if tc.layout != nil {
		tc.layout(t, dir, agentPath, modulePath)
	}
	command, gotPath, _, err := posixCachedRunCommand(p, agent, []Artifact{module})
	must(t, err)
	if gotPath != agentPath {
		t.Fatalf("agent path %q, want %q", gotPath, agentPath)
	}
	if wrapped := strings.HasPrefix(command, "/bin/sh -c "); wrapped != (shell != ShellPOSIX) {
		t.Fatalf("command goes through /bin/sh: %v; want that only for a login shell that is not POSIX", wrapped)
	}
	cmd := exec.Command(loginShell, "-c", command)
	cmd.Stdin = strings.NewReader("request")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	status := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		status = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("status %d, stderr %q", status, stderr.String())
	if status != tc.wantStatus {
		t.Fatalf("status %d, want %d; stderr %q", status, tc.wantStatus, stderr.String())
	}
	_, statErr := os.Stat(agentPath + ".ran")
	if ran := statErr == nil; ran != tc.wantRan {
		t.Fatalf("agent ran: %v, want %v", ran, tc.wantRan)
	}
	if started := strings.Contains(stderr.String(), startMarker); started != tc.wantRan {
		t.Errorf("start marker on stderr: %v, want %v", started, tc.wantRan)
	}
	if tc.wantRan && stdout.String() != "request" {
		t.Errorf("agent's stdout %q, want the request it read", stdout.String())
	}
	if tc.wantProbe {
		probed, err := parsePosixProbe(stdout.Bytes())
		if err != nil || probed.OS != p.OS || probed.Arch != p.Arch {
			t.Errorf("probe on stdout %q: %+v, %v; want this machine's platform", stdout.String(), probed, err)
		}
		if !strings.Contains(stderr.String(), notInPlaceMarker) {
			t.Errorf("stderr %q lacks the not-in-place marker", stderr.String())
		}
	}
}

// agentInPlace puts agent in a fresh private directory, as an earlier
// round would have, and returns this machine's platform with that
// directory and the agent's path.
func agentInPlace(t *testing.T, agent Artifact) (Platform, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cscs-test")
	must(t, os.Mkdir(dir, 0o700))
	p := localPlatform(t, dir)
	agentPath, err := agent.RemotePath(p)
	must(t, err)
	must(t, os.WriteFile(agentPath, agent.Data, 0o700))
	return p, agentPath
}

// TestCachedRunCommandCannotExecute runs the command for an agent built
// for another platform: the shell exits with cannotExecuteStatus after the
// start marker, which RunCached reports as not in place.
func TestCachedRunCommandCannotExecute(t *testing.T) {
	// An ELF header for no machine this runs on, then padding.
	agent := Artifact{Name: "cscs-agent", Data: append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)}
	p, _ := agentInPlace(t, agent)
	command, _, _, err := posixCachedRunCommand(p, agent, nil)
	must(t, err)
	var stderr bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != cannotExecuteStatus || !strings.Contains(stderr.String(), startMarker) {
		t.Fatalf("run: %v, stderr %q; want status %d after the start marker", err, stderr.String(), cannotExecuteStatus)
	}
}

func TestCachedRunCommandRefuses(t *testing.T) {
	agent := Artifact{Name: "cscs-agent", Data: []byte("x")}
	tests := map[string]struct {
		p       Platform
		modules []Artifact
	}{
		"windows":                {p: Platform{OS: "windows", Arch: "amd64", RemoteDir: "/C:/Temp/cscs"}},
		"unknown architecture":   {p: Platform{OS: "linux", Arch: "mips", RemoteDir: "/tmp/cscs-1"}},
		"relative directory":     {p: Platform{OS: "linux", Arch: "amd64", RemoteDir: "tmp/cscs-1"}},
		"control character":      {p: Platform{OS: "linux", Arch: "amd64", RemoteDir: "/tmp/cscs\n-1"}},
		"module with a bad name": {p: Platform{OS: "linux", Arch: "amd64", RemoteDir: "/tmp/cscs-1"}, modules: []Artifact{{Name: "../x.sh", Data: []byte("x")}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := posixCachedRunCommand(tc.p, agent, tc.modules); KindOf(err) != Config {
				t.Fatalf("error %v, want a Config error", err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAgentHashedOnlyWhenChanged runs RunCached's and Run's commands with
// hashing tools on PATH that count their calls: the agent is hashed once,
// then not while its stamp holds, and again after any change to the file.
func TestAgentHashedOnlyWhenChanged(t *testing.T) {
	if _, ok := posixStat(runtime.GOOS); !ok {
		t.Skip("no stat format for this system")
	}
	// Whichever hashing tool the command picks leaves a mark per call.
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	wrapped := 0
	for _, tool := range []string{"openssl", "sha256sum"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		wrapped++
		must(t, os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\necho x >>"+shellQuote(calls)+"\nexec "+shellQuote(real)+" \"$@\"\n"), 0o755))
	}
	if wrapped == 0 {
		t.Skip("neither openssl nor sha256sum here")
	}
	hashed := func() int {
		b, _ := os.ReadFile(calls)
		return bytes.Count(b, []byte("x"))
	}

	agent := Artifact{Name: "cscs-agent", Data: []byte("#!/bin/sh\ncat\n")}
	p, agentPath := agentInPlace(t, agent)
	digest, err := agent.digest()
	must(t, err)
	cachedCmd, _, _, err := posixCachedRunCommand(p, agent, nil)
	must(t, err)
	runCmd, err := posixRunCommand(p.OS, agentPath, digest)
	must(t, err)
	run := func(command string) int {
		cmd := exec.Command("/bin/sh", "-c", command)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		cmd.Stdin = strings.NewReader("request")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		must(t, err)
		if stdout.String() != "request" {
			t.Fatalf("agent's stdout %q, want the request; stderr %q", stdout.String(), stderr.String())
		}
		return 0
	}

	steps := []struct {
		name       string
		change     func()
		command    string
		wantStatus int
		wantHashes int
	}{
		{name: "first run hashes", command: runCmd, wantHashes: 1},
		{name: "cached run trusts the stamp", command: cachedCmd, wantHashes: 1},
		{name: "so does the next", command: cachedCmd, wantHashes: 1},
		{name: "touched: hashed again", change: func() {
			must(t, os.Chtimes(agentPath, time.Now(), time.Now().Add(-time.Hour)))
		}, command: cachedCmd, wantHashes: 2},
		{name: "stamp removed: hashed again", change: func() { must(t, os.Remove(agentPath+".ok")) }, command: cachedCmd, wantHashes: 3},
		{name: "rewritten, same size: refused", change: func() {
			must(t, os.WriteFile(agentPath, []byte("#!/bin/sh\nid \n"), 0o700))
		}, command: cachedCmd, wantStatus: ChecksumExitCode, wantHashes: 4},
		{name: "still refused", command: runCmd, wantStatus: ChecksumExitCode, wantHashes: 5},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		if got := run(s.command); got != s.wantStatus {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.wantStatus)
		}
		if got := hashed(); got != s.wantHashes {
			t.Fatalf("%s: the agent was hashed %d times in all, want %d", s.name, got, s.wantHashes)
		}
	}
}

// TestChecksumWithoutWorkingOpenSSL: an openssl that fails or prints no
// digest hands over to sha256sum.
func TestChecksumWithoutWorkingOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum here")
	}
	bin := t.TempDir()
	must(t, os.WriteFile(filepath.Join(bin, "openssl"), []byte("#!/bin/sh\necho 'openssl: FIPS self test failed' >&2\nexit 1\n"), 0o755))
	agent := Artifact{Name: "cscs-agent", Data: []byte("#!/bin/sh\ncat\n")}
	for name, wrong := range map[string]bool{"right agent runs": false, "wrong agent refused": true} {
		t.Run(name, func(t *testing.T) {
			p, agentPath := agentInPlace(t, agent)
			digest, err := agent.digest()
			must(t, err)
			if wrong {
				must(t, os.WriteFile(agentPath, []byte("#!/bin/sh\nid\n"), 0o700))
			}
			command, err := posixRunCommand(p.OS, agentPath, digest)
			must(t, err)
			cmd := exec.Command("/bin/sh", "-c", command)
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			cmd.Stdin = strings.NewReader("request")
			out, err := cmd.Output()
			var exitErr *exec.ExitError
			switch {
			case wrong && (!errors.As(err, &exitErr) || exitErr.ExitCode() != ChecksumExitCode):
				t.Fatalf("wrong agent: %v, want status %d", err, ChecksumExitCode)
			case !wrong && (err != nil || string(out) != "request"):
				t.Fatalf("right agent: %q, %v; want the request echoed", out, err)
			}
		})
	}
}

// TestPosixProbeLoginShell runs the probe with the $SHELL sshd would set:
// only the shells that read RunCached's script as /bin/sh does count as
// POSIX.
func TestPosixProbeLoginShell(t *testing.T) {
	tests := map[string]string{
		"/bin/sh": ShellPOSIX, "/bin/bash": ShellPOSIX, "/usr/bin/dash": ShellPOSIX, "/bin/ksh93": ShellPOSIX, "/bin/mksh": ShellPOSIX,
		"/usr/bin/zsh": "", "/usr/bin/fish": "", "/bin/tcsh": "", "/bin/csh": "", "/bin/bash-not": "", "": "",
	}
	for loginShell, want := range tests {
		t.Run(loginShell, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", posixProbe)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SHELL=" + loginShell}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			p, err := parsePosixProbe(out)
			if err != nil {
				t.Skipf("this machine's platform is not one the agent exists for: %v", err)
			}
			if p.Shell != want {
				t.Errorf("SHELL=%q: Shell %q, want %q (probe printed %q)", loginShell, p.Shell, want, out)
			}
		})
	}
}
