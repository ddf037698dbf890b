// Package sshdtest starts real OpenSSH sshd processes on loopback addresses
// for integration tests and benchmarks, and provides the test user, its
// password and an authorized client key to log in with.
//
// The fleet needs root (sshd runs as root and the test user is created with
// useradd) and /usr/sbin/sshd. Where either is missing, Start skips the test,
// except under CI=true, where it fails it: CI must never skip silently.
package sshdtest

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// UserName is the account the fleet's sshd lets in.
const UserName = "cscs-test"

// maxListenAddresses is how many ListenAddress lines one sshd accepts.
const maxListenAddresses = 16

// Options says what fleet to start. The zero value starts one host.
type Options struct {
	// Hosts is the number of hosts; 0 means 1. Every host is a distinct
	// loopback address; hosts are served by ceil(Hosts/16) sshd processes.
	Hosts int
	// LogLevel is sshd's LogLevel: INFO (the default), VERBOSE or DEBUG*.
	// Quieter levels are refused because readiness is read from the log.
	LogLevel string
	// ExtraConfig is written at the top of every generated sshd_config, so
	// its keywords take precedence over the defaults (sshd keeps the first
	// value it reads). Match blocks are not supported.
	ExtraConfig []string
}

// Host is one address of the fleet.
type Host struct {
	IP      string
	Port    int
	HostKey ssh.PublicKey
}

// Addr is the host's "ip:port".
func (h Host) Addr() string { return net.JoinHostPort(h.IP, strconv.Itoa(h.Port)) }

// Fleet is a running set of sshd hosts and the credentials they accept.
type Fleet struct {
	Hosts []Host
	// User is the login name (UserName); UID and GID are its numeric ids.
	User string
	UID  int
	GID  int
	// Password is the user's password, random per machine while no other
	// fleet is running (see Start).
	Password string
	// KeyFile is an unencrypted OpenSSH ed25519 private key (mode 0600)
	// whose public half is authorized for User; Signer is the same key.
	KeyFile string
	Signer  ssh.Signer
	// Dir holds the generated configs, keys and logs; removed on cleanup.
	Dir string
}

// KnownHosts returns one known_hosts line per host of the fleet.
func (f *Fleet) KnownHosts() string {
	var b strings.Builder
	for _, h := range f.Hosts {
		b.WriteString(KnownHostsLine(h))
		b.WriteByte('\n')
	}
	return b.String()
}

// KnownHostsLine is the known_hosts line (without newline) that trusts h's
// host key at h's address and port.
func KnownHostsLine(h Host) string {
	return knownhosts.Line([]string{knownhosts.Normalize(h.Addr())}, h.HostKey)
}

// skipOrFail skips the test for a missing prerequisite, or fails it when
// CI=true because CI must run every integration test.
func skipOrFail(tb testing.TB, reason string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("sshdtest: %s (CI=true: integration tests must not be skipped)", reason)
	}
	tb.Skipf("sshdtest: %s", reason)
}
