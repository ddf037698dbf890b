package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Windows hosts run OpenSSH for Windows, which hands an exec request to
// its DefaultShell: cmd.exe unless HKLM\SOFTWARE\OpenSSH\DefaultShell names
// another, often Windows PowerShell 5.1 (powershell.exe) or PowerShell 7
// (pwsh.exe). sshd runs `"<cmd.exe>" /c "<command>"` for cmd.exe, which
// strips the outer quotes again, and `"<shell>" -c <command>` (the command
// quoted as one argument, `"` escaped as `\"`) for PowerShell. So every
// command sent here follows rules that keep it intact under both:
//
//   - cmd.exe commands never start with `"` (cmd would strip it and the
//     last quote of the line) and carry no `%`, `^`, `!`, `&`, `|`, `<`
//     or `>` inside quotes; no nested `cmd /c "…"` (Win32-OpenSSH #1273).
//   - PowerShell commands carry no `"` at all and never start with `'`
//     (sshd then passes the command unquoted), use `;` and `if`, never
//     `&&` (Windows PowerShell 5.1 has none), and quote paths with
//     single quotes.

// Shells Platform.Shell names on Windows hosts.
const (
	// ShellCmd is cmd.exe, the OpenSSH for Windows default.
	ShellCmd = "cmd"
	// ShellPowerShell is Windows PowerShell 5.1 or PowerShell 7, which
	// CSCS drives with the same commands.
	ShellPowerShell = "powershell"
)

// probeMarker starts, and probeEnd ends, the one line a Windows probe
// prints; what lies between are its fields, separated by "/" (which
// cannot occur in a Windows user name or in a path written with
// backslashes).
const (
	probeMarker = "cscs-probe/"
	probeEnd    = "/end"
)

// windowsProbe is one echo that means the same to cmd.exe and PowerShell
// and tells them apart: cmd.exe expands the variables ("Windows_NT",
// "AMD64", ...; an unset one stays as written), PowerShell echoes the
// word as it is ("%OS%"). Fields: OS, PROCESSOR_ARCHITECTURE,
// PROCESSOR_ARCHITEW6432 (the native architecture under WOW64), TEMP,
// USERNAME. cmd.exe prints them in the OEM code page; see
// windowsUnicodeProbe.
const windowsProbe = `echo cscs-probe/%OS%/%PROCESSOR_ARCHITECTURE%/%PROCESSOR_ARCHITEW6432%/%TEMP%/%USERNAME%/end`

// powerShellProbe prints the fields of windowsProbe from PowerShell, with
// TEMP and USERNAME as comma-separated UTF-16 code units, so that no code
// page can change them on the way. It uses only what Constrained Language
// Mode allows (casts to core types, -join).
const powerShellProbe = `Write-Output ('cscs-probe/' + $env:OS + '/' + $env:PROCESSOR_ARCHITECTURE + '/' + $env:PROCESSOR_ARCHITEW6432 + '/' + ` +
	`(([int[]][char[]][string]$env:TEMP) -join ',') + '/' + (([int[]][char[]][string]$env:USERNAME) -join ',') + '/end')`

// windowsUnicodeProbe runs powerShellProbe from cmd.exe, for a host whose
// TEMP or user name is not ASCII: cmd.exe's echo cannot be trusted with
// them. powershell.exe joins its arguments after -Command with spaces,
// which gives the probe back unchanged (it has no double spaces, no `"`
// and nothing cmd.exe interprets).
const windowsUnicodeProbe = `powershell.exe -NoProfile -NonInteractive -Command ` + powerShellProbe

// windowsProbeResult holds the fields a Windows probe printed.
type windowsProbeResult struct {
	shell              string
	os, arch, arch6432 string
	temp, user         string
}

// findProbeLine returns the fields of the probe line in out: from the
// first probeMarker to the last probeEnd of its line. Lines around it (a
// login banner, a profile's output, a localized message) are ignored, as
// are a byte-order mark, carriage returns and the stray quotes cmd.exe
// leaves when it strips quotes it should not have. A line without
// probeEnd is joined with the lines after it (a shell that wraps long
// lines at the console width), at most maxProbeLines of them.
func findProbeLine(out []byte) (fields []string, line string, ok bool) {
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		at := strings.Index(l, probeMarker)
		if at < 0 {
			continue
		}
		body := strings.TrimRight(l[at+len(probeMarker):], "\r")
		for j := i + 1; !strings.Contains(body, probeEnd) && j < len(lines) && j <= i+maxProbeLines; j++ {
			body += strings.TrimRight(lines[j], "\r")
		}
		end := strings.LastIndex(body, probeEnd)
		if end < 0 {
			return nil, strings.TrimSpace(l), false
		}
		return strings.Split(body[:end], "/"), probeMarker + body, true
	}
	return nil, "", false
}

// maxProbeLines bounds the lines a wrapped probe line is joined from.
const maxProbeLines = 16

// probeFields returns the five fields of the probe line in what the probe
// named name printed.
func probeFields(out []byte, name string) ([]string, error) {
	fields, line, ok := findProbeLine(out)
	if !ok {
		return nil, fmt.Errorf("the %s probe printed no probe line: %q", name, sanitize(out, 4, 200))
	}
	if len(fields) != 5 {
		return nil, fmt.Errorf("the %s probe printed %d fields, want 5: %q", name, len(fields), sanitize([]byte(line), 1, 200))
	}
	return fields, nil
}

// parseWindowsProbe reads windowsProbe's output and tells which shell ran
// it. Under PowerShell only the shell is known: the variables come with
// powerShellProbe.
func parseWindowsProbe(out []byte) (windowsProbeResult, error) {
	fields, err := probeFields(out, "Windows")
	if err != nil {
		return windowsProbeResult{}, err
	}
	r := windowsProbeResult{os: trimProbe(fields[0]), arch: trimProbe(fields[1]), arch6432: trimProbe(fields[2]),
		temp: trimProbe(fields[3]), user: trimProbe(fields[4])}
	switch {
	case strings.EqualFold(r.os, "%OS%"):
		// PowerShell echoed the word: nothing was expanded.
		return windowsProbeResult{shell: ShellPowerShell}, nil
	case strings.EqualFold(r.os, "Windows_NT"):
		r.shell = ShellCmd
		return r, nil
	}
	return windowsProbeResult{}, fmt.Errorf("the Windows probe printed OS %q, want Windows_NT (cmd.exe) or %%OS%% (PowerShell)", sanitize([]byte(r.os), 1, 40))
}

// parsePowerShellProbe reads powerShellProbe's output.
func parsePowerShellProbe(out []byte) (windowsProbeResult, error) {
	fields, err := probeFields(out, "PowerShell")
	if err != nil {
		return windowsProbeResult{}, err
	}
	r := windowsProbeResult{shell: ShellPowerShell, os: trimProbe(fields[0]), arch: trimProbe(fields[1]),
		arch6432: trimProbe(fields[2])}
	if !strings.EqualFold(r.os, "Windows_NT") {
		return windowsProbeResult{}, fmt.Errorf("the PowerShell probe printed OS %q, want Windows_NT", sanitize([]byte(r.os), 1, 40))
	}
	if r.temp, err = decodeCodeUnits(trimProbe(fields[3])); err != nil {
		return windowsProbeResult{}, fmt.Errorf("the PowerShell probe printed TEMP as %w", err)
	}
	if r.user, err = decodeCodeUnits(trimProbe(fields[4])); err != nil {
		return windowsProbeResult{}, fmt.Errorf("the PowerShell probe printed USERNAME as %w", err)
	}
	return r, nil
}

// trimProbe trims the spaces, carriage returns and stray quotes a shell
// may leave around a field.
func trimProbe(s string) string { return strings.Trim(s, " \t\r\n\"\ufeff") }

// maxCodeUnits bounds a decoded probe value (a path of 1024 characters).
const maxCodeUnits = 1024

// decodeCodeUnits turns "67,58,92" (UTF-16 code units in decimal, as
// PowerShell's [int[]][char[]] prints them) into "C:\"; "" is "".
func decodeCodeUnits(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxCodeUnits {
		return "", fmt.Errorf("%d code units, more than %d", len(parts), maxCodeUnits)
	}
	units := make([]uint16, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil {
			return "", fmt.Errorf("code units %q: %q is not one", sanitize([]byte(s), 1, 80), sanitize([]byte(p), 1, 10))
		}
		units[i] = uint16(n)
	}
	return string(utf16.Decode(units)), nil
}

// isPlainASCII reports whether s is printable ASCII only.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// windowsPlatform turns a probe's fields into the Platform. Without
// needTemp (a remote directory is configured) TEMP is not checked.
func windowsPlatform(r windowsProbeResult, needTemp bool) (Platform, error) {
	machine := r.arch
	// Under WOW64 PROCESSOR_ARCHITEW6432 holds the native architecture;
	// unset, cmd.exe echoes the variable's name and PowerShell prints "".
	if native := r.arch6432; native != "" && !strings.HasPrefix(native, "%") {
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
		return Platform{}, fmt.Errorf("unsupported processor %q (PROCESSOR_ARCHITECTURE): the agent exists for AMD64, ARM64 and x86", sanitize([]byte(machine), 1, 40))
	}
	user := r.user
	if user == "" || strings.HasPrefix(user, "%") || hasControl(user) || len(user) > 256 {
		return Platform{}, fmt.Errorf("the Windows probe printed no usable user name: %q", sanitize([]byte(user), 1, 60))
	}
	p := Platform{OS: "windows", Arch: arch, UID: user, Shell: r.shell}
	if !needTemp {
		return p, nil
	}
	if r.temp == "" || strings.HasPrefix(r.temp, "%") {
		return Platform{}, errors.New("the Windows probe printed no TEMP directory: set TEMP for the account, or configure a remote directory for the client")
	}
	dir, err := windowsSFTPPath(r.temp)
	if err != nil {
		return Platform{}, err
	}
	p.RemoteDir = dir + "/cscs"
	return p, nil
}

// detectWindows is Detect for a host where the POSIX probe did not run:
// windowsProbe, then, under PowerShell, powerShellProbe, and under cmd.exe
// with a TEMP or user name that is not ASCII, windowsUnicodeProbe.
// posix is how the POSIX probe ended, for the error when nothing fits.
func (c *Client) detectWindows(ctx context.Context, posix execResult) (Platform, error) {
	fail := func(err error) (Platform, error) {
		return Platform{}, &Error{Kind: Protocol, Step: "detect", Err: fmt.Errorf("%s: %w", c.addr, err)}
	}
	res, err := c.exec(ctx, "detect", windowsProbe, nil, false, maxProbeOutput)
	if err != nil {
		return Platform{}, err
	}
	r, perr := parseWindowsProbe(res.stdout)
	if res.signal != "" || (res.status != 0 && perr != nil) {
		return fail(fmt.Errorf(
			"cannot tell the platform: the POSIX probe exited with %d (%s) and the Windows probe with %d (%s)",
			posix.status, sanitize(posix.stderr, 2, 200), res.status, sanitize(res.stderr, 2, 200)))
	}
	if perr != nil {
		return fail(perr)
	}
	switch {
	case r.shell == ShellPowerShell:
		ps, err := c.exec(ctx, "detect", powerShellProbe, nil, false, maxProbeOutput)
		if err != nil {
			return Platform{}, err
		}
		if r, err = parsePowerShellProbe(ps.stdout); err != nil {
			return fail(fmt.Errorf("the default shell is PowerShell, but its probe failed (exit %d: %s): %w",
				ps.status, sanitize(ps.stderr, 2, 200), err))
		}
	case !isPlainASCII(r.temp) || !isPlainASCII(r.user):
		// cmd.exe printed them in the OEM code page: ask PowerShell. If
		// it cannot answer, what cmd.exe printed is checked as it is.
		if ps, err := c.exec(ctx, "detect", windowsUnicodeProbe, nil, false, maxProbeOutput); err != nil {
			return Platform{}, err
		} else if u, err := parsePowerShellProbe(ps.stdout); err == nil {
			r.temp, r.user = u.temp, u.user
		}
	}
	p, err := windowsPlatform(r, c.remoteDir == "")
	if err != nil {
		return fail(err)
	}
	return p, nil
}

// windowsSFTPPath turns a Windows directory such as C:\Users\x\Temp into
// the path the OpenSSH SFTP server uses for it: /C:/Users/x/Temp.
func windowsSFTPPath(dir string) (string, error) {
	if len(dir) < 3 || !isDriveLetter(dir[0]) || dir[1] != ':' || dir[2] != '\\' ||
		hasControl(dir) || strings.ContainsAny(dir, cmdSpecial+"/") || strings.Contains(dir, `\..`) || len(dir) > 1024 {
		return "", fmt.Errorf("windows temp directory %q is not a plain absolute path (drive letter, backslashes, none of %s): set TEMP for the account, or configure a remote directory for the client",
			sanitize([]byte(dir), 1, 120), cmdSpecial)
	}
	return "/" + strings.TrimSuffix(strings.ReplaceAll(dir, `\`, "/"), "/"), nil
}

// windowsPath turns an SFTP path (/C:/x/y) back into a Windows one (C:\x\y).
func windowsPath(sftpPath string) (string, error) {
	p := strings.TrimPrefix(sftpPath, "/")
	if len(p) < 3 || !isDriveLetter(p[0]) || p[1] != ':' || p[2] != '/' ||
		hasControl(p) || strings.ContainsAny(p, cmdSpecial+`\`) || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		return "", fmt.Errorf("remote path %q is not a plain absolute Windows path", sanitize([]byte(sftpPath), 1, 120))
	}
	return strings.ReplaceAll(p, "/", `\`), nil
}

// cmdSpecial are characters cmd.exe may interpret even inside quotes.
const cmdSpecial = `"%^&|<>!`

func isDriveLetter(b byte) bool { return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') }

// windowsRunCommand is the command that checks the agent's SHA-256 and
// runs it with stdin, in the language of the host's shell (cmd.exe when
// the platform does not say).
func windowsRunCommand(p Platform, remotePath, digest string) (string, error) {
	exe, err := windowsPath(remotePath)
	if err != nil {
		return "", err
	}
	switch p.Shell {
	case ShellCmd, "":
		return cmdRunCommand(exe, digest), nil
	case ShellPowerShell:
		return powerShellRunCommand(exe, digest), nil
	}
	return "", fmt.Errorf("unknown Windows shell %q: detect the platform again", sanitize([]byte(p.Shell), 1, 20))
}

// cmdRunCommand is a cmd.exe command line that hashes exe with certutil
// (stdin from NUL, so the request stays for the agent), exits with
// ChecksumExitCode and checksumMarker on stderr unless the hash is digest,
// and then runs exe, whose exit status cmd.exe returns as its own. exe is
// a plain path (windowsPath): inside double quotes nothing in it is
// special.
func cmdRunCommand(exe, digest string) string {
	return fmt.Sprintf(`(certutil -hashfile "%s" SHA256 <nul | findstr /i /x %s >nul || (echo %s 1>&2 & exit %d)) && "%s"`,
		exe, digest, checksumMarker, ChecksumExitCode, exe)
}

// powerShellRunCommand is the same for Windows PowerShell 5.1 and
// PowerShell 7: Get-FileHash (a missing or unreadable file hashes to
// nothing), the marker written straight to stderr, the request handed on
// from the session's stdin with $input, and the agent's exit status
// returned with exit $LASTEXITCODE.
func powerShellRunCommand(exe, digest string) string {
	return `$f=` + psQuote(exe) + `; $h=''; try { $h=(Get-FileHash -LiteralPath $f -Algorithm SHA256 -ErrorAction Stop).Hash } catch { }; ` +
		`if ($h -ne '` + digest + `') { [Console]::Error.WriteLine('` + checksumMarker + `'); exit ` + strconv.Itoa(ChecksumExitCode) + ` }; ` +
		`$input | & $f; exit $LASTEXITCODE`
}

// psQuote quotes s as a PowerShell single-quoted string. PowerShell takes
// the typographic single quotes (U+2018..U+201B) for ' too; each quote
// character is doubled.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// windowsStdin prepares stdin for the host's shell. PowerShell reads the
// session's stdin as lines of text in the console's code page and writes
// them to the agent again, so a JSON request is sent as ASCII, every
// other character as a \u escape (the same JSON value). cmd.exe passes
// stdin through untouched.
func windowsStdin(p Platform, stdin []byte) ([]byte, error) {
	if p.Shell != ShellPowerShell || len(stdin) == 0 || isPlainASCII(strings.TrimRight(string(stdin), "\r\n\t ")) {
		return stdin, nil
	}
	return asciiJSON(stdin)
}

// asciiJSON returns the JSON document in with every character beyond
// ASCII written as a \u escape (a surrogate pair beyond U+FFFF): the same
// JSON value in printable ASCII. Non-ASCII characters can only occur in
// JSON strings, where the escape means the character itself.
func asciiJSON(in []byte) ([]byte, error) {
	if !json.Valid(in) {
		return nil, errors.New("stdin for a PowerShell host must be a JSON document or ASCII text")
	}
	var b bytes.Buffer
	b.Grow(len(in) + len(in)/4)
	for _, r := range string(in) {
		switch {
		case r < 0x80:
			b.WriteByte(byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.Bytes(), nil
}
