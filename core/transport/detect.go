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
}

// maxProbeOutput bounds what the platform probes may print.
const maxProbeOutput = 4 << 10

// posixProbe prints the kernel name, machine, uid and temp directory, one
// per line.
const posixProbe = `uname -s; uname -m; id -u; printf '%s\n' "${TMPDIR:-/tmp}"`

// windowsProbe prints the processor architecture (and the native one
// under WOW64), the temp directory and the user name, one per line.
const windowsProbe = `cmd.exe /c "echo %PROCESSOR_ARCHITECTURE%&echo %PROCESSOR_ARCHITEW6432%&echo %TEMP%&echo %USERNAME%"`

// Detect finds the host's OS, architecture, login uid and the private
// remote directory: a POSIX probe first, then a Windows (cmd.exe) probe
// if the POSIX one does not run. The Windows probe is untested so far.
func (c *Client) Detect(ctx context.Context) (Platform, error) {
	res, err := c.exec(ctx, "detect", posixCommand(posixProbe), nil, maxProbeOutput)
	if err != nil {
		return Platform{}, err
	}
	var p Platform
	if res.status == 0 && res.signal == "" {
		if p, err = parsePosixProbe(res.stdout); err != nil {
			return Platform{}, &Error{Kind: Protocol, Step: "detect", Err: fmt.Errorf("%s: %w", c.addr, err)}
		}
	} else {
		winRes, err := c.exec(ctx, "detect", windowsProbe, nil, maxProbeOutput)
		if err != nil {
			return Platform{}, err
		}
		if winRes.status != 0 || winRes.signal != "" {
			return Platform{}, &Error{Kind: Protocol, Step: "detect", Err: fmt.Errorf(
				"cannot tell the platform of %s: the POSIX probe exited with %d (%s) and the Windows probe with %d (%s)",
				c.addr, res.status, sanitize(res.stderr, 2, 200), winRes.status, sanitize(winRes.stderr, 2, 200))}
		}
		if p, err = parseWindowsProbe(winRes.stdout); err != nil {
			return Platform{}, &Error{Kind: Protocol, Step: "detect", Err: fmt.Errorf("%s: %w", c.addr, err)}
		}
	}
	if c.remoteDir != "" {
		p.RemoteDir = c.remoteDir
	}
	return p, nil
}

// parsePosixProbe reads posixProbe's output.
func parsePosixProbe(out []byte) (Platform, error) {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 4 {
		return Platform{}, fmt.Errorf("platform probe printed %d lines, want 4: %q", len(lines), sanitize(out, 4, 200))
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
	tmp := "/tmp"
	// More than four lines means TMPDIR holds a newline: ignore it.
	if len(lines) == 4 {
		if t := path.Clean(lines[3]); path.IsAbs(t) && !hasControl(t) && len(t) <= 1024 {
			tmp = t
		}
	}
	return Platform{OS: goos, Arch: arch, UID: uid, RemoteDir: path.Join(tmp, "cscs-"+uid)}, nil
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

// unamePatterns is a shell case pattern matching what `uname -sm` prints
// on p's OS and architecture ("'Linux x86_64'|'Linux amd64'"); false for
// a platform uname does not describe (Windows).
func unamePatterns(p Platform) (string, bool) {
	kernel, ok := unameKernels[p.OS]
	machines := unameMachines[p.Arch]
	if !ok || len(machines) == 0 {
		return "", false
	}
	pats := make([]string, len(machines))
	for i, m := range machines {
		pats[i] = shellQuote(kernel + " " + m)
	}
	return strings.Join(pats, "|"), true
}

// parseWindowsProbe reads windowsProbe's output.
func parseWindowsProbe(out []byte) (Platform, error) {
	text := strings.ReplaceAll(string(out), "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 {
		return Platform{}, fmt.Errorf("windows probe printed %d lines, want 4: %q", len(lines), sanitize(out, 4, 200))
	}
	machine := strings.TrimSpace(lines[0])
	// Under WOW64 the second line holds the native architecture; when
	// unset, cmd echoes the variable's name.
	if native := strings.TrimSpace(lines[1]); native != "" && !strings.HasPrefix(native, "%") {
		machine = native
	}
	var arch string
	switch strings.ToUpper(machine) {
	case "AMD64":
		arch = "amd64"
	case "ARM64":
		arch = "arm64"
	case "X86":
		arch = "386"
	default:
		return Platform{}, fmt.Errorf("unsupported processor %q (PROCESSOR_ARCHITECTURE)", sanitize([]byte(machine), 1, 40))
	}
	dir, err := windowsSFTPPath(strings.TrimSpace(lines[2]))
	if err != nil {
		return Platform{}, err
	}
	user := strings.TrimSpace(lines[3])
	if user == "" || strings.HasPrefix(user, "%") || hasControl(user) || len(user) > 256 {
		return Platform{}, fmt.Errorf("windows probe printed no usable user name: %q", sanitize([]byte(user), 1, 60))
	}
	return Platform{OS: "windows", Arch: arch, UID: user, RemoteDir: dir + "/cscs"}, nil
}

// windowsSFTPPath turns a Windows directory such as C:\Users\x\Temp into
// the path the OpenSSH SFTP server uses for it: /C:/Users/x/Temp.
func windowsSFTPPath(dir string) (string, error) {
	if len(dir) < 3 || !isDriveLetter(dir[0]) || dir[1] != ':' || dir[2] != '\\' ||
		hasControl(dir) || strings.ContainsAny(dir, cmdSpecial) || len(dir) > 1024 {
		return "", fmt.Errorf("windows temp directory %q is not a plain absolute path", sanitize([]byte(dir), 1, 120))
	}
	return "/" + strings.TrimSuffix(strings.ReplaceAll(dir, `\`, "/"), "/"), nil
}

// windowsPath turns an SFTP path (/C:/x/y) back into a Windows one (C:\x\y).
func windowsPath(sftpPath string) (string, error) {
	p := strings.TrimPrefix(sftpPath, "/")
	if len(p) < 3 || !isDriveLetter(p[0]) || p[1] != ':' || p[2] != '/' ||
		hasControl(p) || strings.ContainsAny(p, cmdSpecial+`\`) {
		return "", fmt.Errorf("remote path %q is not a plain absolute Windows path", sanitize([]byte(sftpPath), 1, 120))
	}
	return strings.ReplaceAll(p, "/", `\`), nil
}

// cmdSpecial are characters cmd.exe may interpret even inside quotes.
const cmdSpecial = `"%^&|<>!`

func isDriveLetter(b byte) bool { return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') }
