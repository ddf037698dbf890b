package transport

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// ChecksumExitCode is the exit status of the command Run sends when the
// file on the host does not have the expected SHA-256; together with
// checksumMarker on stderr it yields ErrAgentChecksum.
const ChecksumExitCode = 213

const checksumMarker = "cscs: agent checksum mismatch"

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Run executes remotePath on the host in one command that first checks the
// file's SHA-256 (sha256sum, shasum -a 256 or openssl on POSIX; certutil
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
		command, err = posixRunCommand(remotePath, digest)
	}
	if err != nil {
		return nil, nil, &Error{Kind: Config, Step: "run", Err: err}
	}
	res, err := c.exec(ctx, "run", command, stdin, maxOutput)
	if err != nil {
		return res.stdout, res.stderr, err
	}
	return res.stdout, res.stderr, c.agentResult(res, remotePath, digest)
}

// agentResult turns how the command that checks and runs the agent ended
// into nil or an Agent error.
func (c *Client) agentResult(res execResult, remotePath, digest string) error {
	switch {
	case res.status == ChecksumExitCode && strings.Contains(string(res.stderr), checksumMarker):
		return &Error{Kind: Agent, Step: "run", Err: fmt.Errorf(
			"%w: %s on %s is missing or does not have the expected SHA-256 %s…", ErrAgentChecksum, remotePath, c.addr, digest[:16])}
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
// the first tool found and then replaces itself with the file. The file
// is read through a redirection, so stdin is left for the agent.
func posixRunCommand(remotePath, digest string) (string, error) {
	if !path.IsAbs(remotePath) || hasControl(remotePath) {
		return "", errors.New("remote path must be absolute and free of control characters")
	}
	script := strings.Join(append(append([]string{"f=" + shellQuote(remotePath)}, posixChecksumCheck(digest)...), `exec "$f"`), "; ")
	return posixCommand(script), nil
}

// posixChecksumCheck are the lines of a /bin/sh script that hash the file
// named by $f with the first tool found and exit with ChecksumExitCode
// unless its SHA-256 is digest. The file is read through a redirection,
// so stdin is left for the agent.
func posixChecksumCheck(digest string) []string {
	return []string{
		`if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum <"$f"); s=${s%% *}`,
		`elif command -v shasum >/dev/null 2>&1; then s=$(shasum -a 256 <"$f"); s=${s%% *}`,
		`else s=$(openssl dgst -sha256 <"$f"); s=${s##* }; fi`,
		`if [ "$s" != ` + digest + ` ]; then echo '` + checksumMarker + `' >&2; exit ` + fmt.Sprint(ChecksumExitCode) + `; fi`,
	}
}
