package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Kind tells what went wrong reaching or using a host, so callers can
// decide what to report and whether a retry can help.
type Kind int

const (
	// Other is an error that fits no other kind.
	Other Kind = iota
	// Unreachable: no TCP connection (refused, no route, name not found).
	Unreachable
	// Timeout: the host did not answer in time.
	Timeout
	// AuthFailed: the host refused every offered credential.
	AuthFailed
	// HostKeyMismatch: the host presented a key other than the known one.
	HostKeyMismatch
	// HostKeyUnknown: the host is not in known_hosts and accepting new
	// keys was not asked for.
	HostKeyUnknown
	// Agent: the agent on the host failed (non-zero exit, bad checksum).
	Agent
	// Protocol: the host said something unexpected.
	Protocol
	// Cancelled: the caller's context was cancelled.
	Cancelled
	// Unsafe: the remote directory or file is not private (owned by
	// someone else, wrong mode, a symbolic link); it is never used.
	Unsafe
	// Config: the local settings cannot work (no credentials, unreadable
	// or passphrase-protected key file, no known_hosts).
	Config
)

// String is the kind's stable snake_case name, fit for storage and logs.
func (k Kind) String() string {
	names := [...]string{
		Other:           "other",
		Unreachable:     "unreachable",
		Timeout:         "timeout",
		AuthFailed:      "auth_failed",
		HostKeyMismatch: "host_key_mismatch",
		HostKeyUnknown:  "host_key_unknown",
		Agent:           "agent",
		Protocol:        "protocol",
		Cancelled:       "cancelled",
		Unsafe:          "unsafe",
		Config:          "config",
	}
	if k >= 0 && int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is what every function of this package returns on failure.
type Error struct {
	Kind Kind
	// Step is the operation that failed: "dial", "handshake", "detect",
	// "ensure", "run".
	Step string
	Err  error
}

func (e *Error) Error() string { return e.Step + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or Other.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// ErrAgentChecksum reports that the agent file on the host does not have
// the expected SHA-256 (tampered or truncated). The caller may upload it
// again once (Client.Upload) and retry.
var ErrAgentChecksum = errors.New("agent on host failed its checksum")

// classify turns an error from dialing, the handshake or a remote call
// into an *Error. ctx is the context of the call: once it is done, its
// cancellation explains the failure better than the closed connection.
func classify(ctx context.Context, step string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &Error{Kind: Timeout, Step: step, Err: fmt.Errorf("deadline exceeded: %w", err)}
		}
		return &Error{Kind: Cancelled, Step: step, Err: fmt.Errorf("cancelled: %w", err)}
	}
	return &Error{Kind: kindOfCause(err), Step: step, Err: err}
}

// kindOfCause classifies an error that is not already an *Error.
func kindOfCause(err error) Kind {
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var algErr *ssh.AlgorithmNegotiationError
	switch {
	case errors.Is(err, context.Canceled):
		return Cancelled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return Timeout
	case errors.As(err, &netErr) && netErr.Timeout():
		return Timeout
	case errors.As(err, &dnsErr):
		return Unreachable
	case errors.As(err, &opErr) && opErr.Op == "dial":
		// Refused, no route, network down: every failure to connect
		// that is not a timeout.
		return Unreachable
	case errors.As(err, &algErr):
		return Protocol
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		// x/crypto/ssh has no error type for this.
		return AuthFailed
	case strings.Contains(err.Error(), "ssh: handshake failed"):
		return Protocol
	}
	return Other
}
