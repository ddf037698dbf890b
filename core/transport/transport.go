// Package transport reaches a host over SSH: it dials with the configured
// authentication and host-key policy, detects the host's platform, keeps the
// agent in a private content-addressed remote directory and runs it.
//
// A round for one host is:
//
//	c, err := Dial(ctx, target, Options{HostKeys: hk})
//	p, err := c.Detect(ctx)
//	path, _, err := c.Ensure(ctx, p, artifact)
//	out, _, err := c.Run(ctx, p, path, artifact.SHA256, request, limit)
//	// on errors.Is(err, ErrAgentChecksum): c.Upload, then Run once more
//
// With external modules, EnsureAll places the agent and the modules'
// artifacts in the same directory over one SFTP session; the agent checks
// and runs the modules itself (docs/agent-protocol.md).
//
// Every error is an *Error whose Kind (see KindOf) says what went wrong.
// Everything a host sends is treated as hostile: output is capped,
// validated before use, and sanitized before it reaches an error message.
// Secrets (passwords, keys) never appear in errors or command lines.
//
// Windows hosts run OpenSSH for Windows with cmd.exe or PowerShell (5.1
// or 7) as its default shell: Detect tells which (Platform.Shell) and Run
// writes its command in that shell's language (windows.go). Both are
// tested against recorded shell output, not yet against a real host.
package transport
