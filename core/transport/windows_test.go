package transport

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

// The fixtures in testdata/windows are what the shells of OpenSSH for
// Windows print for the probes: cmd.exe (CRLF, OEM code page 850 for
// non-ASCII, a stray quote, noise lines around), Windows PowerShell 5.1
// and PowerShell 7 (nothing expanded by the neutral probe; UTF-16 code
// units from powerShellProbe, with a UTF-8 byte-order mark in one).

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "windows", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWindowsProbe(t *testing.T) {
	tests := map[string]struct {
		want    windowsProbeResult
		wantErr string
	}{
		"cmd-amd64.txt": {want: windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: "AMD64",
			arch6432: "%PROCESSOR_ARCHITEW6432%", temp: `C:\Users\op\AppData\Local\Temp`, user: "op"}},
		"cmd-stray-quote.txt": {want: windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: "AMD64",
			arch6432: "%PROCESSOR_ARCHITEW6432%", temp: `C:\Users\op\AppData\Local\Temp`, user: "op"}},
		"cmd-noise.txt": {want: windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: "AMD64",
			arch6432: "%PROCESSOR_ARCHITEW6432%", temp: `C:\Users\op\AppData\Local\Temp`, user: "op"}},
		"cmd-wow64.txt": {want: windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: "x86",
			arch6432: "AMD64", temp: `C:\Users\SVC-CS~1\AppData\Local\Temp`, user: "svc-cscs"}},
		"cmd-oem-user.txt": {want: windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: "AMD64",
			arch6432: "%PROCESSOR_ARCHITEW6432%", temp: "C:\\Users\\J\x81rgen\\AppData\\Local\\Temp", user: "J\x81rgen"}},
		"powershell51-echo.txt": {want: windowsProbeResult{shell: ShellPowerShell}},
		"pwsh7-echo.txt":        {want: windowsProbeResult{shell: ShellPowerShell}},
		"cmd-error-oem.txt":     {wantErr: "printed no probe line"},
		"powershell51-probe.txt": {
			// powerShellProbe's output is not the neutral probe's.
			want: windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: "AMD64", temp: "67,58,92,85,115,101,114,115,92,111,112,92,65,112,112,68,97,116,97,92,76,111,99,97,108,92,84,101,109,112", user: "111,112"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseWindowsProbe(fixture(t, name))
			checkResult(t, got, err, tc.want, tc.wantErr)
		})
	}
	inline := map[string]struct {
		out     string
		wantErr string
	}{
		"too few fields":       {out: "cscs-probe/Windows_NT/AMD64/end\r\n", wantErr: "printed 2 fields, want 5"},
		"TEMP with a slash":    {out: "cscs-probe/Windows_NT/AMD64/x/C:/T/op/end\r\n", wantErr: "want 5"},
		"no end":               {out: "cscs-probe/Windows_NT/AMD64/x/C:\\T/op\r\n", wantErr: "no probe line"},
		"another OS":           {out: "cscs-probe/Linux/x86_64/x/C:\\T/op/end\n", wantErr: "want Windows_NT (cmd.exe) or %OS% (PowerShell)"},
		"escape in an OS name": {out: "cscs-probe/\x1b[31m/x/x/C:\\T/op/end\n", wantErr: "printed OS"},
	}
	for name, tc := range inline {
		t.Run(name, func(t *testing.T) {
			got, err := parseWindowsProbe([]byte(tc.out))
			checkResult(t, got, err, windowsProbeResult{}, tc.wantErr)
			noControlInError(t, err)
		})
	}
}

func TestParsePowerShellProbe(t *testing.T) {
	tests := map[string]struct {
		want    windowsProbeResult
		wantErr string
	}{
		"powershell51-probe.txt": {want: windowsProbeResult{shell: ShellPowerShell, os: "Windows_NT", arch: "AMD64",
			temp: `C:\Users\op\AppData\Local\Temp`, user: "op"}},
		// A console 80 columns wide wrapped the line.
		"powershell51-probe-wrapped.txt": {want: windowsProbeResult{shell: ShellPowerShell, os: "Windows_NT", arch: "AMD64",
			temp: `C:\Users\op\AppData\Local\Temp`, user: "op"}},
		"pwsh7-probe-unicode.txt": {want: windowsProbeResult{shell: ShellPowerShell, os: "Windows_NT", arch: "ARM64",
			temp: `C:\Users\Jürgen Müller\AppData\Local\Temp`, user: "Jürgen"}},
		"pwsh7-probe-emoji.txt": {want: windowsProbeResult{shell: ShellPowerShell, os: "Windows_NT", arch: "AMD64",
			temp: "D:\\T\U0001F600", user: "op"}},
		// The neutral probe's output under PowerShell has no Windows_NT.
		"powershell51-echo.txt": {wantErr: "printed OS \"%OS%\""},
		"cmd-amd64.txt":         {wantErr: "TEMP as code units"},
		"cmd-error-oem.txt":     {wantErr: "no probe line"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parsePowerShellProbe(fixture(t, name))
			checkResult(t, got, err, tc.want, tc.wantErr)
		})
	}
}

func TestDecodeCodeUnits(t *testing.T) {
	checkMappings(t, "decodeCodeUnits", decodeCodeUnits, map[string]mapping{
		"":            {want: ""},
		"67,58,92":    {want: `C:\`},
		"74,252,114":  {want: "Jür"},
		"55357,56832": {want: "\U0001F600"},
		"55357":       {want: "\uFFFD"}, // a lone surrogate
		" 67 , 58":    {want: "C:"},
		"67,,58":      {wantErr: true},
		"65536":       {wantErr: true},
		"-1":          {wantErr: true},
		"C:":          {wantErr: true},
		strings.Repeat("65,", maxCodeUnits) + "65": {wantErr: true},
	})
}

func TestWindowsPlatform(t *testing.T) {
	cmd := func(arch, arch6432, temp, user string) windowsProbeResult {
		return windowsProbeResult{shell: ShellCmd, os: "Windows_NT", arch: arch, arch6432: arch6432, temp: temp, user: user}
	}
	tests := map[string]struct {
		in      windowsProbeResult
		noTemp  bool // a remote directory is configured
		want    Platform
		wantErr string
	}{
		"amd64": {in: cmd("AMD64", "%PROCESSOR_ARCHITEW6432%", `C:\Users\op\AppData\Local\Temp`, "op"),
			want: Platform{OS: "windows", Arch: "amd64", UID: "op", RemoteDir: "/C:/Users/op/AppData/Local/Temp/cscs", Shell: ShellCmd}},
		"32-bit shell on 64-bit windows": {in: cmd("x86", "AMD64", `D:\tmp\`, "op"),
			want: Platform{OS: "windows", Arch: "amd64", UID: "op", RemoteDir: "/D:/tmp/cscs", Shell: ShellCmd}},
		"x86 emulation on arm64": {in: cmd("x86", "ARM64", `C:\T`, "op"),
			want: Platform{OS: "windows", Arch: "arm64", UID: "op", RemoteDir: "/C:/T/cscs", Shell: ShellCmd}},
		"powershell without WOW64": {in: windowsProbeResult{shell: ShellPowerShell, os: "Windows_NT", arch: "ARM64", temp: `C:\T`, user: "Jürgen"},
			want: Platform{OS: "windows", Arch: "arm64", UID: "Jürgen", RemoteDir: "/C:/T/cscs", Shell: ShellPowerShell}},
		"32-bit windows": {in: cmd("x86", "%PROCESSOR_ARCHITEW6432%", `C:\T`, "op"),
			want: Platform{OS: "windows", Arch: "386", UID: "op", RemoteDir: "/C:/T/cscs", Shell: ShellCmd}},
		"TEMP unset but a remote directory configured": {in: cmd("AMD64", "", "%TEMP%", "svc"), noTemp: true,
			want: Platform{OS: "windows", Arch: "amd64", UID: "svc", Shell: ShellCmd}},
		"TEMP unset":                {in: cmd("AMD64", "", "%TEMP%", "svc"), wantErr: "no TEMP directory"},
		"TEMP in the OEM code page": {in: cmd("AMD64", "", "C:\\Users\\J\x81rgen", "op"), wantErr: "not a plain absolute path"},
		"TEMP with cmd specials":    {in: cmd("AMD64", "", `C:\a&calc`, "op"), wantErr: "not a plain absolute path"},
		"TEMP with a percent":       {in: cmd("AMD64", "", `C:\a%PATH%`, "op"), wantErr: "not a plain absolute path"},
		"relative TEMP":             {in: cmd("AMD64", "", `Temp`, "op"), wantErr: "not a plain absolute path"},
		"TEMP going up":             {in: cmd("AMD64", "", `C:\Users\..\Windows\Temp`, "op"), wantErr: "not a plain absolute path"},
		"user unset":                {in: cmd("AMD64", "", `C:\T`, "%USERNAME%"), wantErr: "no usable user name"},
		"user in the OEM code page": {in: cmd("AMD64", "", `C:\T`, "J\x81rgen"), wantErr: "no usable user name"},
		"unknown processor":         {in: cmd("IA64", "", `C:\T`, "op"), wantErr: "unsupported processor"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := windowsPlatform(tc.in, !tc.noTemp)
			checkResult(t, got, err, tc.want, tc.wantErr)
		})
	}
}

func TestWindowsPath(t *testing.T) {
	checkMappings(t, "windowsPath", windowsPath, map[string]mapping{
		"/C:/Users/op/Temp/cscs/cscs-agent-0123.exe": {want: `C:\Users\op\Temp\cscs\cscs-agent-0123.exe`},
		"/C:/a b/x.exe":       {want: `C:\a b\x.exe`},
		"/C:/Users/O'Brien/x": {want: `C:\Users\O'Brien\x`},
		"/C:/Users/Jürgen/x":  {want: `C:\Users\Jürgen\x`},
		"/C:/a%PATH%/x":       {wantErr: true},
		`/C:/a"/x`:            {wantErr: true},
		"/C:/a^b/x":           {wantErr: true},
		"/C:/a!b/x":           {wantErr: true},
		"/tmp/x":              {wantErr: true},
		"/C:/a\\..\\b/x":      {wantErr: true},
		"/C:/a/../Windows/x":  {wantErr: true},
		"/C:/a/\x1b[0m/x":     {wantErr: true},
	})
}

const testDigest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestWindowsRunCommand pins the exact commands per shell.
func TestWindowsRunCommand(t *testing.T) {
	const agent = "/C:/Users/op/AppData/Local/Temp/cscs/cscs-agent-0123456789abcdef.exe"
	tests := map[string]struct {
		shell   string
		path    string
		want    string
		wantErr string
	}{
		"cmd.exe": {shell: ShellCmd, path: agent, want: `(certutil -hashfile "C:\Users\op\AppData\Local\Temp\cscs\cscs-agent-0123456789abcdef.exe" SHA256 <nul | ` +
			`findstr /i /x ` + testDigest + ` >nul || (echo cscs: agent checksum mismatch 1>&2 & exit 213)) && ` +
			`"C:\Users\op\AppData\Local\Temp\cscs\cscs-agent-0123456789abcdef.exe"`},
		"platform stored without a shell is cmd.exe": {shell: "", path: "/C:/T/a.exe",
			want: `(certutil -hashfile "C:\T\a.exe" SHA256 <nul | findstr /i /x ` + testDigest + ` >nul || (echo cscs: agent checksum mismatch 1>&2 & exit 213)) && "C:\T\a.exe"`},
		"cmd.exe with spaces": {shell: ShellCmd, path: "/C:/Users/John  Smith/x.exe",
			want: `(certutil -hashfile "C:\Users\John  Smith\x.exe" SHA256 <nul | findstr /i /x ` + testDigest + ` >nul || (echo cscs: agent checksum mismatch 1>&2 & exit 213)) && "C:\Users\John  Smith\x.exe"`},
		"powershell": {shell: ShellPowerShell, path: agent, want: `$f='C:\Users\op\AppData\Local\Temp\cscs\cscs-agent-0123456789abcdef.exe'; $h=''; ` +
			`try { $h=(Get-FileHash -LiteralPath $f -Algorithm SHA256 -ErrorAction Stop).Hash } catch { }; ` +
			`if ($h -ne '` + testDigest + `') { [Console]::Error.WriteLine('cscs: agent checksum mismatch'); exit 213 }; ` +
			`$input | & $f; exit $LASTEXITCODE`},
		"powershell with a quote and spaces": {shell: ShellPowerShell, path: "/C:/Users/O'Brien  Jr/x.exe",
			want: `$f='C:\Users\O''Brien  Jr\x.exe'; $h=''; try { $h=(Get-FileHash -LiteralPath $f -Algorithm SHA256 -ErrorAction Stop).Hash } catch { }; ` +
				`if ($h -ne '` + testDigest + `') { [Console]::Error.WriteLine('cscs: agent checksum mismatch'); exit 213 }; $input | & $f; exit $LASTEXITCODE`},
		"unknown shell":       {shell: "bash", path: agent, wantErr: `unknown Windows shell "bash"`},
		"path with a percent": {shell: ShellPowerShell, path: "/C:/a%TEMP%/x.exe", wantErr: "not a plain absolute Windows path"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := windowsRunCommand(Platform{OS: "windows", Shell: tc.shell}, tc.path, testDigest)
			checkResult(t, got, err, tc.want, tc.wantErr)
		})
	}
}

// TestWindowsCommandsSurviveSSHD checks every command sent to a Windows
// host against what sshd and the shell make of it: cmd.exe's /c with and
// without the quotes sshd adds, and the argument PowerShell gets after
// -c, with and without sshd's argument escaping.
func TestWindowsCommandsSurviveSSHD(t *testing.T) {
	paths := []string{"/C:/Users/op/AppData/Local/Temp/cscs/a.exe", "/C:/Users/John  Smith/x.exe", "/C:/Users/O'Brien/x.exe", "/D:/Jürgen/\u2019x.exe"}
	cmdCommands := []string{windowsProbe, windowsUnicodeProbe}
	psCommands := []string{windowsProbe, powerShellProbe}
	for _, p := range paths {
		c, err := windowsRunCommand(Platform{OS: "windows", Shell: ShellCmd}, p, testDigest)
		if err != nil {
			t.Fatal(err)
		}
		cmdCommands = append(cmdCommands, c)
		ps, err := windowsRunCommand(Platform{OS: "windows", Shell: ShellPowerShell}, p, testDigest)
		if err != nil {
			t.Fatal(err)
		}
		psCommands = append(psCommands, ps)
	}
	for _, c := range cmdCommands {
		// sshd: "<cmd.exe>" /c "<command>"; older ones leave the quotes out.
		for _, line := range []string{`"` + c + `"`, c} {
			if got := cmdSlashC(line); got != c {
				t.Errorf("cmd.exe /c %s\nruns %s\nwant %s", line, got, c)
			}
		}
	}
	for _, c := range psCommands {
		if strings.Contains(c, `"`) || strings.HasPrefix(c, "'") || strings.Contains(c, "&&") || strings.Contains(c, "||") {
			t.Errorf("PowerShell command has a double quote, a leading single quote, && or ||: %s", c)
		}
		for _, escape := range []bool{true, false} {
			line := sshdPowerShellLine(`C:\Program Files\PowerShell\7\pwsh.exe`, c, escape)
			args := windowsArgv(line)
			if len(args) < 3 || args[1] != "-c" {
				t.Fatalf("command line %s parses to %q", line, args)
			}
			if got := strings.Join(args[2:], " "); got != c {
				t.Errorf("PowerShell (escape %v) gets\n%s\nwant\n%s", escape, got, c)
			}
		}
	}
}

// cmdSlashC is what cmd.exe /c runs of the rest of its command line when
// the line is not a lone quoted program: a leading quote is removed along
// with the last quote of the line (cmd /?).
func cmdSlashC(rest string) string {
	if !strings.HasPrefix(rest, `"`) {
		return rest
	}
	rest = rest[1:]
	if i := strings.LastIndex(rest, `"`); i >= 0 {
		rest = rest[:i] + rest[i+1:]
	}
	return rest
}

// sshdPowerShellLine is the process command line OpenSSH for Windows
// builds for a PowerShell DefaultShell: the shell quoted, -c, and the
// command; with argument escaping (powershell.exe, or DefaultShellEscapeArguments)
// the command is quoted when it has a space and does not start with a
// single quote, `"` becomes `\"` and backslashes before a quote are
// doubled; without it, it is put in quotes as it is.
func sshdPowerShellLine(shell, command string, escape bool) string {
	if !escape {
		return `"` + shell + `" -c "` + command + `"`
	}
	var b strings.Builder
	quote := !strings.HasPrefix(command, "'") && strings.Contains(command, " ")
	if quote {
		b.WriteByte('"')
	}
	for i := 0; i < len(command); i++ {
		switch {
		case command[i] == '\\':
			j := i
			for j < len(command) && command[j] == '\\' {
				j++
			}
			n := j - i
			if j < len(command) && command[j] == '"' {
				n *= 2
			}
			b.WriteString(strings.Repeat(`\`, n))
			i = j - 1
		case command[i] == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(command[i])
		}
	}
	if quote {
		b.WriteByte('"')
	}
	return `"` + shell + `" -c ` + b.String()
}

// windowsArgv splits a command line as the Microsoft C runtime (and
// .NET, for PowerShell) does.
func windowsArgv(line string) []string {
	var (
		args    []string
		cur     strings.Builder
		inQuote bool
		have    bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			j := i
			for j < len(line) && line[j] == '\\' {
				j++
			}
			n := j - i
			if j < len(line) && line[j] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					j++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
			have = true
			i = j - 1
		case c == '"':
			inQuote = !inQuote
			have = true
		case (c == ' ' || c == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

func TestPSQuote(t *testing.T) {
	tests := map[string]string{
		`C:\T\a.exe`:             `'C:\T\a.exe'`,
		`O'Brien`:                `'O''Brien'`,
		"a\u2019b":               "'a\u2019\u2019b'",
		"a\u2018\u201ab\u201b":   "'a\u2018\u2018\u201a\u201ab\u201b\u201b'",
		`$env:X $(calc) ` + "`n": `'$env:X $(calc) ` + "`n'",
	}
	for in, want := range tests {
		if got := psQuote(in); got != want {
			t.Errorf("psQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWindowsStdin(t *testing.T) {
	ps := Platform{OS: "windows", Shell: ShellPowerShell}
	cmd := Platform{OS: "windows", Shell: ShellCmd}
	tests := map[string]struct {
		p       Platform
		in      string
		want    string
		wantErr string
	}{
		"cmd.exe passes bytes through": {p: cmd, in: `{"a":"Jürgen"}`, want: `{"a":"Jürgen"}`},
		"ASCII JSON unchanged":         {p: ps, in: "{\"a\":\"b\"}\n", want: "{\"a\":\"b\"}\n"},
		"non-ASCII escaped":            {p: ps, in: `{"user":"Jürgen","dir":"C:\\Jürgen"}`, want: `{"user":"J\u00fcrgen","dir":"C:\\J\u00fcrgen"}`},
		"beyond the BMP":               {p: ps, in: "[\"\U0001F600\"]", want: `["\ud83d\ude00"]`},
		"line separators":              {p: ps, in: "[\"a\u2028b\"]", want: `["a\u2028b"]`},
		"empty":                        {p: ps, in: "", want: ""},
		"not JSON":                     {p: ps, in: "Jürgen", wantErr: "must be a JSON document or ASCII text"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := windowsStdin(tc.p, []byte(tc.in))
			checkResult(t, string(got), err, tc.want, tc.wantErr)
			if err != nil {
				return
			}
			if tc.p.Shell == ShellPowerShell && tc.in != "" {
				var a, b any
				if json.Unmarshal([]byte(tc.in), &a) != nil || json.Unmarshal(got, &b) != nil || !reflect.DeepEqual(a, b) {
					t.Errorf("%s and %s are not the same JSON value", tc.in, got)
				}
			}
		})
	}
}

// fakeWindowsHost answers exec requests as OpenSSH for Windows with
// cmd.exe or PowerShell as the DefaultShell would, from the recorded
// outputs in testdata/windows; the agent echoes its stdin.
type fakeWindowsHost struct {
	fakeShell
	t        *testing.T
	mu       sync.Mutex
	commands []string
	stdin    []byte
}

// fakeShell is how a fakeWindowsHost behaves.
type fakeShell struct {
	shell string
	// probe and psProbe are the fixtures windowsProbe and powerShellProbe
	// print; psProbe "" means PowerShell cannot run it.
	probe, psProbe string
	// agentStatus is the agent's exit status; badHash makes the check fail.
	agentStatus int
	badHash     bool
}

// answer is what the shell prints for command and how it exits.
func (h *fakeWindowsHost) answer(command string, stdin []byte) (stdout, stderr []byte, status int) {
	h.mu.Lock()
	h.commands = append(h.commands, command)
	h.mu.Unlock()
	notFound := func(what string) ([]byte, []byte, int) {
		if h.shell == ShellCmd {
			return nil, []byte("'" + what + "' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"), 1
		}
		return nil, []byte(what + " : The term '" + what + "' is not recognized as the name of a cmdlet, function, script file, or operable program.\r\n"), 1
	}
	switch {
	case strings.HasPrefix(command, "/bin/sh -c "):
		if h.shell == ShellCmd {
			return nil, fixture(h.t, "cmd-posix-error.txt"), 1
		}
		return nil, fixture(h.t, "powershell51-posix-error.txt"), 1
	case command == windowsProbe:
		return fixture(h.t, h.probe), nil, 0
	case command == powerShellProbe:
		if h.shell == ShellCmd {
			return notFound("Write-Output")
		}
		if h.psProbe == "" {
			return nil, []byte("Cannot invoke method. Method invocation is supported only on core types in this language mode.\r\n"), 1
		}
		return fixture(h.t, h.psProbe), nil, 0
	case command == windowsUnicodeProbe:
		if h.shell != ShellCmd || h.psProbe == "" {
			return notFound("powershell.exe")
		}
		return fixture(h.t, h.psProbe), nil, 0
	case strings.HasPrefix(command, "(certutil -hashfile ") && h.shell == ShellCmd,
		strings.HasPrefix(command, "$f=") && h.shell == ShellPowerShell:
		h.mu.Lock()
		h.stdin = stdin
		h.mu.Unlock()
		if h.badHash {
			return nil, []byte(checksumMarker + " \r\n"), ChecksumExitCode
		}
		return append([]byte("report:"), stdin...), []byte("agent log line\r\n"), h.agentStatus
	case strings.HasPrefix(command, "$f="):
		return notFound("$f")
	}
	return notFound(strings.Fields(command)[0])
}

// serve handles one SSH channel: a session with one exec request.
func (h *fakeWindowsHost) serve(nc ssh.NewChannel) {
	if nc.ChannelType() != "session" {
		nc.Reject(ssh.UnknownChannelType, "sessions only")
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" || len(req.Payload) < 4 {
			req.Reply(false, nil)
			continue
		}
		n := binary.BigEndian.Uint32(req.Payload)
		command := string(req.Payload[4 : 4+min(int(n), len(req.Payload)-4)])
		req.Reply(true, nil)
		stdin, _ := io.ReadAll(ch)
		stdout, stderr, status := h.answer(command, stdin)
		ch.Write(stdout)
		ch.Stderr().Write(stderr)
		ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(status)))
		return
	}
}

// dialFake starts h and connects to it.
func dialFake(t *testing.T, h *fakeWindowsHost, remoteDir string) *Client {
	t.Helper()
	h.t = t
	hostKey := sshdtest.NewSigner(t)
	srv := serveTestSSHChannels(t, listenLoopback(t), testServerConfig(testPassword, nil, hostKey), ssh.DiscardRequests, h.serve)
	hk, err := NewHostKeys(knownHostsFile(t, lineFor(srv.addr(), hostKey.PublicKey())+"\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	// The connection lives as long as the context it was dialled with.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	c, err := Dial(ctx, srv.target(Auth{Password: testPassword}), Options{HostKeys: hk, KeepAlive: -1, RemoteDir: remoteDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDetectWindowsShells(t *testing.T) {
	const (
		posix   = "posix"
		neutral = "windows"
		ps      = "powershell"
		unicode = "powershell.exe from cmd"
	)
	// win is the platform detected for user in dir (below /C:/Users).
	win := func(shell, arch, user, dir string) Platform {
		return Platform{OS: "windows", Arch: arch, UID: user, RemoteDir: "/C:/Users/" + dir + "/cscs", Shell: shell}
	}
	opCmd := win(ShellCmd, "amd64", "op", "op/AppData/Local/Temp")
	var (
		cmdSteps = []string{posix, neutral}
		psSteps  = []string{posix, neutral, ps}
	)
	tests := map[string]struct {
		host      fakeShell
		remoteDir string
		want      Platform
		wantErr   string
		wantSteps []string
	}{
		"cmd.exe":                    {host: fakeShell{shell: ShellCmd, probe: "cmd-amd64.txt"}, want: opCmd, wantSteps: cmdSteps},
		"cmd.exe with a stray quote": {host: fakeShell{shell: ShellCmd, probe: "cmd-stray-quote.txt"}, want: opCmd, wantSteps: cmdSteps},
		"cmd.exe with a banner":      {host: fakeShell{shell: ShellCmd, probe: "cmd-noise.txt"}, want: opCmd, wantSteps: cmdSteps},
		"cmd.exe on arm64": {host: fakeShell{shell: ShellCmd, probe: "cmd-arm64.txt"},
			want: win(ShellCmd, "arm64", "op", "op/AppData/Local/Temp/2"), wantSteps: cmdSteps},
		"cmd.exe with a user name in the OEM code page asks PowerShell": {host: fakeShell{shell: ShellCmd, probe: "cmd-oem-user.txt", psProbe: "pwsh7-probe-unicode.txt"},
			want: win(ShellCmd, "amd64", "Jürgen", "Jürgen Müller/AppData/Local/Temp"), wantSteps: []string{posix, neutral, unicode}},
		"cmd.exe with a user name in the OEM code page and no PowerShell": {host: fakeShell{shell: ShellCmd, probe: "cmd-oem-user.txt"},
			wantErr: "no usable user name", wantSteps: []string{posix, neutral, unicode}},
		"cmd.exe without TEMP": {host: fakeShell{shell: ShellCmd, probe: "cmd-no-temp.txt"}, wantErr: "no TEMP directory", wantSteps: cmdSteps},
		"cmd.exe without TEMP and a remote directory configured": {host: fakeShell{shell: ShellCmd, probe: "cmd-no-temp.txt"}, remoteDir: "/C:/cscs",
			want: Platform{OS: "windows", Arch: "amd64", UID: "svc", RemoteDir: "/C:/cscs", Shell: ShellCmd}, wantSteps: cmdSteps},
		"Windows PowerShell 5.1": {host: fakeShell{shell: ShellPowerShell, probe: "powershell51-echo.txt", psProbe: "powershell51-probe.txt"},
			want: win(ShellPowerShell, "amd64", "op", "op/AppData/Local/Temp"), wantSteps: psSteps},
		"PowerShell 7 with a profile and a Unicode user": {host: fakeShell{shell: ShellPowerShell, probe: "pwsh7-echo.txt", psProbe: "pwsh7-probe-unicode.txt"},
			want: win(ShellPowerShell, "arm64", "Jürgen", "Jürgen Müller/AppData/Local/Temp"), wantSteps: psSteps},
		"PowerShell that cannot run the probe": {host: fakeShell{shell: ShellPowerShell, probe: "powershell51-echo.txt"},
			wantErr: "the default shell is PowerShell, but its probe failed (exit 1: Cannot invoke method", wantSteps: psSteps},
		"a shell that runs neither probe": {host: fakeShell{shell: ShellCmd, probe: "cmd-error-oem.txt"}, wantErr: "printed no probe line", wantSteps: cmdSteps},
	}
	step := func(command string) string {
		switch {
		case strings.HasPrefix(command, "/bin/sh -c "):
			return posix
		case command == windowsProbe:
			return neutral
		case command == powerShellProbe:
			return ps
		case command == windowsUnicodeProbe:
			return unicode
		}
		return command
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &fakeWindowsHost{fakeShell: tc.host}
			c := dialFake(t, h, tc.remoteDir)
			got, err := c.Detect(context.Background())
			var steps []string
			for _, cmd := range h.commands {
				steps = append(steps, step(cmd))
			}
			if !reflect.DeepEqual(steps, tc.wantSteps) {
				t.Errorf("commands %q, want %q", steps, tc.wantSteps)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Detect = %+v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				if KindOf(err) != Protocol {
					t.Errorf("error kind %v, want Protocol", KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Detect = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRunOnWindowsShells(t *testing.T) {
	const agent = "/C:/Users/op/AppData/Local/Temp/cscs/cscs-agent-0123456789abcdef.exe"
	request := []byte(`{"version":1,"module_config":{"eventlog":{"channel":"Sécurité"}}}` + "\n")
	tests := map[string]struct {
		host      fakeShell
		wantStdin string
		wantErr   string
		wantErrIs error
	}{
		"cmd.exe passes the request as it is": {
			host:      fakeShell{shell: ShellCmd},
			wantStdin: string(request),
		},
		"PowerShell gets it as ASCII JSON": {
			host:      fakeShell{shell: ShellPowerShell},
			wantStdin: `{"version":1,"module_config":{"eventlog":{"channel":"S\u00e9curit\u00e9"}}}` + "\n",
		},
		"cmd.exe: the agent's exit status": {
			host:      fakeShell{shell: ShellCmd, agentStatus: 2},
			wantStdin: string(request),
			wantErr:   "exited with status 2: agent log line",
		},
		"PowerShell: the agent's exit status": {
			host:    fakeShell{shell: ShellPowerShell, agentStatus: 3},
			wantErr: "exited with status 3: agent log line",
		},
		"cmd.exe: checksum mismatch": {
			host:      fakeShell{shell: ShellCmd, badHash: true},
			wantErrIs: ErrAgentChecksum,
		},
		"PowerShell: checksum mismatch": {
			host:      fakeShell{shell: ShellPowerShell, badHash: true},
			wantErrIs: ErrAgentChecksum,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &fakeWindowsHost{fakeShell: tc.host}
			c := dialFake(t, h, "")
			p := Platform{OS: "windows", Arch: "amd64", UID: "op", RemoteDir: "/C:/Users/op/AppData/Local/Temp/cscs", Shell: h.shell}
			stdout, _, err := c.Run(context.Background(), p, agent, testDigest, request, 1<<20)
			switch {
			case tc.wantErrIs != nil:
				if !errors.Is(err, tc.wantErrIs) {
					t.Fatalf("Run: %v, want %v", err, tc.wantErrIs)
				}
				return
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || KindOf(err) != Agent {
					t.Fatalf("Run: %v, want an Agent error containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if tc.wantStdin != "" {
				if string(h.stdin) != tc.wantStdin {
					t.Errorf("the agent got %s, want %s", h.stdin, tc.wantStdin)
				}
				if string(stdout) != "report:"+tc.wantStdin {
					t.Errorf("stdout %q, want the agent's", stdout)
				}
			}
		})
	}
}
