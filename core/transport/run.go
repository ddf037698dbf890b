package transport

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// ChecksumExitCode is the exit status of the command Run sends when the
// file on the host does not have the expected SHA-256; together with
// checksumMarker on stderr it yields ErrAgentChecksum.
const ChecksumExitCode = 213

const checksumMarker = "cscs: agent checksum mismatch"

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Run executes remotePath on the host in one command that first checks the
// file's SHA-256 (openssl, sha256sum or shasum -a 256 on POSIX; certutil
// under cmd.exe and Get-FileHash under PowerShell on Windows, see
// windows.go) and only then executes it with stdin. On a Windows host
// whose shell is PowerShell, stdin must be JSON or ASCII text: it is sent
// as ASCII JSON (see windowsStdin).
// Stdout beyond maxOutput bytes stops the command with a Protocol error;
// stderr is capped at 64 KiB. A checksum mismatch or a missing file is an
// Agent error wrapping ErrAgentChecksum; another non-zero exit is an Agent
// error with the status and the start of stderr. Stdout and stderr are
// returned also with an error.
func (c *Client) Run(ctx context.Context, p Platform, remotePath, sha256hex string, stdin []byte, maxOutput int) (stdout, stderr []byte, err error) {
	digest := strings.ToLower(sha256hex)
	if !sha256Hex.MatchString(digest) {
		return nil, nil, &Error{Kind: Config, Step: "run", Err: fmt.Errorf("checksum %q is not a hex SHA-256", sanitize([]byte(sha256hex), 1, 80))}
	}
	var command string
	if p.OS == "windows" {
		command, err = windowsRunCommand(p, remotePath, digest)
		if err == nil {
			stdin, err = windowsStdin(p, stdin)
		}
	} else {
		command, err = posixRunCommand(p.OS, remotePath, digest)
	}
	if err != nil {
		return nil, nil, &Error{Kind: Config, Step: "run", Err: err}
	}
	res, err := c.exec(ctx, "run", command, stdin, HoldsStdin(p), maxOutput)
	if err != nil {
		return res.stdout, res.stderr, err
	}
	return res.stdout, res.stderr, c.agentResult(res, remotePath, digest)
}

// HoldsStdin says whether Run and RunCached keep the command's stdin open
// after the request until its output starts, on a host of platform p:
// on every host but Windows, whose PowerShell reads stdin to its end
// before it starts the agent. The request to the agent says so
// (protocol.Request.HoldsStdin), so that it takes end of file for the end
// of its session.
func HoldsStdin(p Platform) bool { return p.OS != "windows" }

// agentResult turns how the command that checks and runs the agent ended
// into nil or an Agent error.
func (c *Client) agentResult(res execResult, remotePath, digest string) error {
	switch {
	case res.status == ChecksumExitCode && strings.Contains(string(res.stderr), checksumMarker):
		return &Error{Kind: Agent, Step: "run", Err: fmt.Errorf(
			"%w: %s on %s is missing or does not have the expected SHA-256 %s…", ErrAgentChecksum, remotePath, c.addr, digest[:16])}
	case res.status == protocol.ExitStopped:
		// The agent stopped before its report: at the deadline the
		// request gave it, which the core set before its own.
		return &Error{Kind: Timeout, Step: "run", Err: fmt.Errorf(
			"agent on %s stopped before its report (status %d): %s", c.addr, res.status, stderrSummary(res.stderr))}
	case res.signal != "":
		return &Error{Kind: Agent, Step: "run", Err: fmt.Errorf(
			"agent on %s was killed by signal %s: %s", c.addr, sanitize([]byte(res.signal), 1, 20), stderrSummary(res.stderr))}
	case res.status != 0:
		return &Error{Kind: Agent, Step: "run", Err: fmt.Errorf(
			"agent on %s exited with status %d: %s", c.addr, res.status, stderrSummary(res.stderr))}
	}
	return nil
}

func stderrSummary(stderr []byte) string {
	if s := sanitize(stderr, 3, 300); s != "" {
		return s
	}
	return "(no output on stderr)"
}

// posixRunCommand is a /bin/sh command that checks the file's SHA-256 with
// the first tool found (unless a stamp says the file is unchanged since it
// was verified, see posixChecksumCheck) and then replaces itself with the
// file. The file is read through a redirection, so stdin is left for the
// agent.
func posixRunCommand(goos, remotePath, digest string) (string, error) {
	if !path.IsAbs(remotePath) || hasControl(remotePath) {
		return "", errors.New("remote path must be absolute and free of control characters")
	}
	lines := []string{"f=" + shellQuote(remotePath), posixUnpack}
	if stat, ok := posixStat(goos); ok {
		lines = append(lines, posixStampFunc, `if st=$(`+stat+` "$f" 2>/dev/null); then set -- $st; `+posixStampFrom(1)+`; else st=; fi`)
	} else {
		lines = append(lines, "st=")
	}
	script := strings.Join(append(append(lines, posixChecksumCheck(digest)...), `exec "$f"`), "; ")
	return posixCommand(script), nil
}

// posixUnpack replaces $f with the unpacked $f.gz that EnsureAll left for
// a compressed artifact (Artifact.Gzip), through a temporary file and a
// rename; $f.gz is removed whether or not that worked. A failure leaves $f
// missing or as it was, and the checksum check after it fails.
const posixUnpack = `if [ -f "$f.gz" ]; then t="$f.$$.tmp"; ` +
	`if gzip -dc <"$f.gz" >"$t" 2>/dev/null && chmod 700 "$t"; then mv -f "$t" "$f"; else rm -f "$t"; fi; rm -f "$f.gz"; fi`

// posixStat is the stat command that prints, for each file named, its
// permission bits in octal, inode, size, modification and change times
// (seconds with nanoseconds), on goos; ok is false where it is not known.
func posixStat(goos string) (cmd string, ok bool) {
	switch goos {
	case "linux":
		return `stat -c '%a %i %s %.9Y %.9Z'`, true
	case "darwin":
		return `stat -f '%Lp %i %z %Fm %Fc'`, true
	}
	return "", false
}

// posixStampFunc defines ts, which succeeds when its argument is a time
// with a fractional part: a stat that cannot print one (an old coreutils,
// BusyBox) leaves the stamp empty, and the agent is hashed every round.
const posixStampFunc = `ts() { case $1 in *[!0-9.]*|*.*.*|.*|*.) return 1;; *.*) return 0;; esac; return 1; }`

// posixStampFrom is the shell that sets $st to the stamp of the file whose
// stat fields (see posixStat) start at positional parameter first, or to
// "" when its times lack the fraction.
func posixStampFrom(first int) string {
	f := func(i int) string { return fmt.Sprintf("${%d}", first+i) }
	return `if ts "` + f(3) + `" && ts "` + f(4) + `"; then st="` + f(1) + ` ` + f(2) + ` ` + f(3) + ` ` + f(4) + `"; else st=; fi`
}

// posixChecksumCheck are the lines of a /bin/sh script that hash the file
// named by $f and exit with ChecksumExitCode unless its SHA-256 is digest.
// OpenSSL goes first (twice as fast as coreutils' sha256sum on the agent
// where the CPU has SHA instructions); when it is missing or prints no
// digest, sha256sum or shasum -a 256. The file is read through a
// redirection, so stdin is left for the agent.
//
// $st is the file's stamp (inode, size, modification and change times to
// the nanosecond) or empty. After a match the stamp is kept in "$f.ok";
// while the file still has that stamp it is not hashed again. Hashing the
// 3.7 MB agent costs the host about 13 ms of CPU, more than the rest of a
// steady round's command. Any write, rename, touch or chmod of the file
// changes its change time, which no unprivileged process can set back.
// The directory is the login user's own with mode 0700, so only that user
// (or root) could forge the stamp, and they can already change what the
// login shell runs.
func posixChecksumCheck(digest string) []string {
	return []string{
		`if [ -z "$st" ] || ! { read -r ok <"$f.ok" && [ "$ok" = "$st" ]; } 2>/dev/null; then ` +
			`s=; if command -v openssl >/dev/null 2>&1; then s=$(openssl dgst -sha256 <"$f" 2>/dev/null); s=${s##* }; fi; ` +
			`if [ ${#s} -ne 64 ]; then if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum <"$f"); s=${s%% *}; ` +
			`else s=$(shasum -a 256 <"$f"); s=${s%% *}; fi; fi; ` +
			`if [ "$s" != ` + digest + ` ]; then echo '` + checksumMarker + `' >&2; exit ` + fmt.Sprint(ChecksumExitCode) + `; fi; ` +
			`[ -z "$st" ] || { printf '%s\n' "$st" >"$f.ok"; } 2>/dev/null || :; fi`,
	}
}
