package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
)

// NotInPlaceExitCode is the exit status of RunCached's command when the
// host is not as an earlier round left it; together with notInPlaceMarker
// on stderr it yields a *NotInPlaceError.
const NotInPlaceExitCode = 212

const (
	notInPlaceMarker = "cscs: agent not in place"
	// startMarker is the last line RunCached's command writes to stderr
	// before it replaces itself with the agent: an exit without it
	// happened before the agent ran.
	startMarker = "cscs: starting agent"
)

// ErrNotInPlace reports that RunCached did not run the agent because the
// host is not as an earlier round left it; errors.As finds the
// *NotInPlaceError with the details.
var ErrNotInPlace = errors.New("agent is not in place on the host")

// NotInPlaceError says why RunCached did not run the agent: the host's
// platform differs from the cached one, the remote directory is missing
// or not private, or a file is missing. Nothing was run. When the same
// command could tell the host's platform (POSIX hosts), Probed is set and
// Platform holds it, so the caller can ensure the files without calling
// Detect.
type NotInPlaceError struct {
	Reason   string
	Platform Platform
	Probed   bool
}

func (e *NotInPlaceError) Error() string { return ErrNotInPlace.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrNotInPlace) true.
func (e *NotInPlaceError) Is(target error) bool { return target == ErrNotInPlace }

// RemotePath is where a is kept on a host of platform p.
func (a Artifact) RemotePath(p Platform) (string, error) {
	name, err := a.RemoteName(p)
	if err != nil {
		return "", err
	}
	if p.RemoteDir == "" {
		return "", &Error{Kind: Config, Step: "run", Err: errors.New("the platform has no remote directory: call Detect first")}
	}
	return path.Join(p.RemoteDir, name), nil
}

// cannotExecuteStatus is the status a POSIX shell exits with when exec
// fails on an existing file (wrong executable format, noexec mount). The
// agent never exits with it.
const cannotExecuteStatus = 126

// RunCached is the round trip of a host whose platform an earlier round
// detected: one command, without Detect or SFTP, that runs the agent an
// earlier round left in p.RemoteDir with stdin. On the host it first
// checks that the remote directory is a directory of the login user with
// mode 0700 (not a symbolic link), that the agent and every module file
// exist, and then the agent's SHA-256, as Run does; only then does it
// execute the agent. The agent's file name holds its digest, so a host
// whose platform changed lacks the file of the old one; should it have
// it, the shell cannot execute it, which is reported like a file not in
// place, without the probe.
//
// The command goes to the login shell as it is when p.Shell is ShellPOSIX,
// else through /bin/sh.
//
// When the host is not as p says (or the command fails before the agent
// starts, for instance because the host no longer has /bin/sh or its login
// shell changed to one that does not read POSIX scripts), nothing
// runs and the error wraps a *NotInPlaceError (errors.Is ErrNotInPlace):
// call Detect, or use its Platform when Probed, then EnsureAll and Run. A
// checksum mismatch wraps ErrAgentChecksum: Upload the agent and Run. Other
// errors are Run's. Windows hosts always get a *NotInPlaceError without a
// round trip: they take the Detect path.
func (c *Client) RunCached(ctx context.Context, p Platform, agent Artifact, modules []Artifact, stdin []byte, maxOutput int) (stdout, stderr []byte, err error) {
	if p.OS == "windows" {
		return nil, nil, &Error{Kind: Agent, Step: "run", Err: &NotInPlaceError{Reason: "Windows hosts are detected every round"}}
	}
	command, agentPath, digest, err := posixCachedRunCommand(p, agent, modules)
	if err != nil {
		return nil, nil, err
	}
	res, err := c.exec(ctx, "run", command, stdin, true, maxOutput)
	if err != nil {
		return res.stdout, res.stderr, err
	}
	started := false
	if i := bytes.Index(res.stderr, []byte(startMarker+"\n")); i >= 0 {
		started = true
		res.stderr = append(res.stderr[:i:i], res.stderr[i+len(startMarker)+1:]...)
	}
	switch {
	case started && res.status == cannotExecuteStatus:
		// The shell could not execute the agent: built for another
		// platform than the host has now (or a noexec mount).
		return nil, res.stderr, &Error{Kind: Agent, Step: "run", Err: &NotInPlaceError{Reason: fmt.Sprintf(
			"the agent in %s could not be executed on %s (%s); the host's platform may have changed", p.RemoteDir, c.addr, stderrSummary(res.stderr))}}
	case started:
		return res.stdout, res.stderr, c.agentResult(res, agentPath, digest)
	case res.status == NotInPlaceExitCode && strings.Contains(string(res.stderr), notInPlaceMarker):
		nip := &NotInPlaceError{Reason: fmt.Sprintf("%s is not as the last round left it (platform, remote directory %s or files)", c.addr, p.RemoteDir)}
		if probed, err := parsePosixProbe(res.stdout); err == nil {
			if c.remoteDir != "" {
				probed.RemoteDir = c.remoteDir
			}
			nip.Platform, nip.Probed = probed, true
		}
		return nil, res.stderr, &Error{Kind: Agent, Step: "run", Err: nip}
	case res.status == ChecksumExitCode && strings.Contains(string(res.stderr), checksumMarker):
		return nil, res.stderr, c.agentResult(res, agentPath, digest)
	}
	how := fmt.Sprintf("status %d", res.status)
	if res.signal != "" {
		how = "signal " + sanitize([]byte(res.signal), 1, 20)
	}
	return nil, res.stderr, &Error{Kind: Agent, Step: "run", Err: &NotInPlaceError{Reason: fmt.Sprintf(
		"the command that checks the agent on %s ended with %s before the agent started: %s", c.addr, how, stderrSummary(res.stderr))}}
}

// posixCachedRunCommand is RunCached's /bin/sh command. When anything is
// not in place it prints the platform probe (see Detect) on stdout and
// exits with NotInPlaceExitCode.
func posixCachedRunCommand(p Platform, agent Artifact, modules []Artifact) (command, agentPath, digest string, err error) {
	fail := func(err error) (string, string, string, error) {
		return "", "", "", &Error{Kind: Config, Step: "run", Err: err}
	}
	stat, ok := posixStat(p.OS)
	if _, known := unameMachines[p.Arch]; !ok || !known {
		return fail(fmt.Errorf("no cached run for platform %s/%s", p.OS, p.Arch))
	}
	if !path.IsAbs(p.RemoteDir) || hasControl(p.RemoteDir) {
		return fail(errors.New("remote directory must be absolute and free of control characters"))
	}
	if digest, err = agent.digest(); err != nil {
		return "", "", "", err
	}
	agentPath = path.Join(p.RemoteDir, remoteName(agent.Name, digest, p))
	lines := []string{
		"d=" + shellQuote(p.RemoteDir) + "; f=" + shellQuote(agentPath),
		"np() { " + posixProbe + "; echo '" + notInPlaceMarker + "' >&2; exit " + fmt.Sprint(NotInPlaceExitCode) + "; }",
		`[ -d "$d" ] && [ ! -h "$d" ] && [ -O "$d" ] && [ -f "$f" ] && [ ! -h "$f" ] && [ -O "$f" ] || np`,
	}
	// One stat gives the directory's mode and the agent's stamp (see
	// posixChecksumCheck); without stat, ls checks the mode and the agent
	// is hashed.
	lines = append(lines, posixStampFunc, `if st=$(`+stat+` "$d" "$f" 2>/dev/null); then set -- $st; [ "$1" = 700 ] || np; `+posixStampFrom(6)+`; `+
		`else case $(ls -ld "$d") in drwx------*) ;; *) np;; esac; st=; fi`)
	for _, m := range modules {
		mp, err := m.RemotePath(p)
		if err != nil {
			return "", "", "", err
		}
		// The agent checks each module's SHA-256 before running it.
		lines = append(lines, "[ -f "+shellQuote(mp)+" ] || np")
	}
	lines = append(lines, posixChecksumCheck(digest)...)
	lines = append(lines, "echo '"+startMarker+"' >&2", `exec "$f"`)
	script := strings.Join(lines, "; ")
	if p.Shell == ShellPOSIX {
		// The login shell reads the script itself: one shell fewer on
		// the host. Should it no longer be a POSIX shell, the script
		// fails before the start marker and the host is detected again.
		return script, agentPath, digest, nil
	}
	return posixCommand(script), agentPath, digest, nil
}
