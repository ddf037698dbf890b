package transport

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Platform is what Detect learned about a host.
type Platform struct {
	// OS and Arch use Go's names: linux, darwin, windows; amd64, arm64, 386, arm.
	OS   string
	Arch string
	// UID is the login user's numeric uid on POSIX hosts and the user
	// name on Windows.
	UID string
	// RemoteDir is the private directory for the agent as an SFTP path:
	// ${TMPDIR:-/tmp}/cscs-<uid> on POSIX, /C:/.../Temp/cscs on Windows,
	// or Options.RemoteDir when set.
	RemoteDir string
	// Shell is the shell OpenSSH for Windows runs commands with, ShellCmd
	// or ShellPowerShell; commands for the host are written in its
	// language (for a Windows platform stored before shells were told
	// apart, cmd.exe is assumed). On POSIX hosts it is ShellPOSIX when the
	// login shell is a POSIX shell, which RunCached's command then needs
	// no /bin/sh for; empty otherwise (csh, fish, zsh: commands go through
	// /bin/sh).
	Shell string
}

// maxProbeOutput bounds what the platform probes may print.
const maxProbeOutput = 4 << 10

// ShellPOSIX is Platform.Shell for a POSIX host whose login shell (sshd
// runs commands with `$SHELL -c`) is one of posixLoginShells.
const ShellPOSIX = "posix"

// posixLoginShells are the login shells, by file name, that read RunCached's
// script as /bin/sh does. zsh is not one (it does not split unquoted
// variables into words).
const posixLoginShells = "sh|dash|bash|ksh|ksh93|mksh|ash"

// posixProbe prints the kernel name, machine, uid, whether the login shell
// is a POSIX shell ("posix" or "other", from $SHELL as sshd sets it) and
// the temp directory, one per line.
const posixProbe = `uname -s; uname -m; id -u; case ${SHELL##*/} in ` + posixLoginShells + `) echo posix;; *) echo other;; esac; printf '%s\n' "${TMPDIR:-/tmp}"`

// Detect finds the host's OS, architecture, login uid and the private
// remote directory: a POSIX probe first and, if it does not run, the
// Windows probes, which also tell cmd.exe from PowerShell as the default
// shell of OpenSSH for Windows (Platform.Shell; see windows.go).
func (c *Client) Detect(ctx context.Context) (Platform, error) {
	res, err := c.exec(ctx, "detect", posixCommand(posixProbe), nil, false, maxProbeOutput)
	if err != nil {
		return Platform{}, err
	}
	var p Platform
	if res.status == 0 && res.signal == "" {
		if p, err = parsePosixProbe(res.stdout); err != nil {
			return Platform{}, &Error{Kind: Protocol, Step: "detect", Err: fmt.Errorf("%s: %w", c.addr, err)}
		}
	} else if p, err = c.detectWindows(ctx, res); err != nil {
		return Platform{}, err
	}
	if c.remoteDir != "" {
		p.RemoteDir = c.remoteDir
	}
	return p, nil
}

// parsePosixProbe reads posixProbe's output.
func parsePosixProbe(out []byte) (Platform, error) {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 5 {
		return Platform{}, fmt.Errorf("platform probe printed %d lines, want 5: %q", len(lines), sanitize(out, 5, 200))
	}
	goos, err := goosFromUname(strings.TrimSpace(lines[0]))
	if err != nil {
		return Platform{}, err
	}
	arch, err := goarchFromMachine(strings.TrimSpace(lines[1]))
	if err != nil {
		return Platform{}, err
	}
	uid := strings.TrimSpace(lines[2])
	if _, err := strconv.ParseUint(uid, 10, 32); err != nil {
		return Platform{}, fmt.Errorf("id -u printed %q, not a uid", sanitize([]byte(uid), 1, 40))
	}
	shell := ""
	if strings.TrimSpace(lines[3]) == "posix" {
		shell = ShellPOSIX
	}
	tmp := "/tmp"
	// More than five lines means TMPDIR holds a newline: ignore it.
	if len(lines) == 5 {
		if t := path.Clean(lines[4]); path.IsAbs(t) && !hasControl(t) && len(t) <= 1024 {
			tmp = t
		}
	}
	return Platform{OS: goos, Arch: arch, UID: uid, RemoteDir: path.Join(tmp, "cscs-"+uid), Shell: shell}, nil
}

// unameKernels maps GOOS to what `uname -s` prints there.
var unameKernels = map[string]string{"linux": "Linux", "darwin": "Darwin"}

// unameMachines maps GOARCH to what `uname -m` may print there.
var unameMachines = map[string][]string{
	"amd64": {"x86_64", "amd64"},
	"arm64": {"aarch64", "arm64"},
	"386":   {"i386", "i486", "i586", "i686", "x86"},
	"arm":   {"armv6l", "armv7l", "armv7", "armv8l", "armhf", "arm"},
}

// goosFromUname maps `uname -s` to GOOS.
func goosFromUname(kernel string) (string, error) {
	for goos, k := range unameKernels {
		if k == kernel {
			return goos, nil
		}
	}
	for _, prefix := range []string{"MINGW", "MSYS", "CYGWIN"} {
		if strings.HasPrefix(strings.ToUpper(kernel), prefix) {
			return "", fmt.Errorf("the host is Windows with a POSIX shell (%s) as the OpenSSH default shell: set HKLM\\SOFTWARE\\OpenSSH\\DefaultShell to cmd.exe or PowerShell, or remove it", sanitize([]byte(kernel), 1, 40))
		}
	}
	return "", fmt.Errorf("unsupported operating system %q (uname -s): the agent exists for Linux, macOS and Windows", sanitize([]byte(kernel), 1, 40))
}

// goarchFromMachine maps `uname -m` to GOARCH.
func goarchFromMachine(machine string) (string, error) {
	for goarch, names := range unameMachines {
		if slices.Contains(names, machine) {
			return goarch, nil
		}
	}
	return "", fmt.Errorf("unsupported processor %q (uname -m): the agent exists for amd64, arm64, 386 and arm", sanitize([]byte(machine), 1, 40))
}
