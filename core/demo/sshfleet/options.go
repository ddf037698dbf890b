package sshfleet

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults applied by Start to zero-valued Options fields.
const (
	DefaultHandshakeTimeout = 15 * time.Second
	DefaultMaxConns         = 2048
	DefaultMaxCommands      = 128
	// MaxHosts bounds Options.Hosts so a typo cannot exhaust the machine.
	MaxHosts = 1 << 16
)

// DefaultFirstIP returns 127.0.50.1, the first host's address when
// Options.FirstIP is not set.
func DefaultFirstIP() netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 50, 1}) }

// Options configure a fleet. Hosts, User and one of Password or
// AuthorizedKey are required; every other field has a default.
type Options struct {
	// Hosts is the number of simulated hosts (1..MaxHosts).
	Hosts int
	// User is the only login name accepted.
	User string
	// Password enables password authentication when not empty. It is
	// compared in constant time and never logged.
	Password string
	// AuthorizedKey enables public-key authentication for User when set.
	AuthorizedKey ssh.PublicKey

	// FirstIP is the first host's address (default 127.0.50.1). Host i
	// listens on FirstIP+i, skipping addresses whose last byte is 0 or
	// 255; every address must lie in 127.0.0.0/8 or Start fails.
	FirstIP netip.Addr
	// Port is the TCP port every host listens on. 0 picks one free port
	// that is bound on every host address. If FirstIP and Port are both
	// left at zero and 127.0.50.1 cannot be bound (macOS configures only
	// 127.0.0.1 on lo0), every host listens on 127.0.0.1 with its own
	// ephemeral port instead; Hosts() tells which.
	Port int

	// Shell runs each exec request as `Shell -c <command>` ("/C" when the
	// shell is cmd.exe). Default /bin/sh, or %ComSpec% on Windows.
	Shell string
	// TempRoot, when set, gives each host a private temp directory
	// TempRoot/<ip>_<port> (0700), exported to its commands as TMPDIR
	// (TMP and TEMP on Windows), so hosts do not share uploads as they
	// would not on real machines. Empty: commands inherit this process's
	// temp directory and all hosts share it.
	TempRoot string

	// HandshakeTimeout bounds the SSH handshake and authentication of
	// each connection (default DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// MaxConns bounds concurrent connections across the fleet; further
	// connections are closed at once (default DefaultMaxConns).
	MaxConns int
	// MaxCommands bounds commands and sftp servers running at once across
	// the fleet; further requests wait for a slot (default
	// DefaultMaxCommands).
	MaxCommands int

	// Logf receives connection-level diagnostics (failed handshakes,
	// refused connections). Nil discards them. Secrets are never passed.
	Logf func(format string, args ...any)
}

// withDefaults validates o and returns a copy with defaults filled in.
func (o Options) withDefaults() (Options, error) {
	if o.Hosts < 1 || o.Hosts > MaxHosts {
		return o, fmt.Errorf("fleet size %d is out of range: set Hosts between 1 and %d", o.Hosts, MaxHosts)
	}
	if o.User == "" {
		return o, errors.New("no user name: set User to the login name clients will use")
	}
	if o.Password == "" && o.AuthorizedKey == nil {
		return o, errors.New("no authentication method: set Password or AuthorizedKey")
	}
	if o.Port < 0 || o.Port > 65535 {
		return o, fmt.Errorf("port %d is out of range: use 0 (pick a free port) or 1..65535", o.Port)
	}
	if o.HandshakeTimeout < 0 || o.MaxConns < 0 || o.MaxCommands < 0 {
		return o, errors.New("negative limit: HandshakeTimeout, MaxConns and MaxCommands must be zero (default) or positive")
	}
	if o.Shell == "" {
		o.Shell = defaultShell()
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxCommands == 0 {
		o.MaxCommands = DefaultMaxCommands
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o, nil
}

// planAddrs returns n consecutive IPv4 loopback addresses starting at
// first, skipping those whose last byte is 0 or 255. It refuses anything
// outside 127.0.0.0/8: the fleet runs commands for any authenticated
// client and must never be reachable from another machine.
func planAddrs(first netip.Addr, n int) ([]netip.Addr, error) {
	first = first.Unmap()
	if !isLoopback4(first) {
		return nil, fmt.Errorf("address %s is not in 127.0.0.0/8: the fleet executes commands for any authenticated client, so it listens on IPv4 loopback only", first)
	}
	addrs := make([]netip.Addr, 0, n)
	for a := first; len(addrs) < n; a = a.Next() {
		if !isLoopback4(a) {
			return nil, fmt.Errorf("%d hosts starting at %s do not fit in 127.0.0.0/8: choose a lower FirstIP or fewer hosts", n, first)
		}
		if last := a.As4()[3]; last == 0 || last == 255 {
			continue
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

func isLoopback4(a netip.Addr) bool {
	return a.IsValid() && a.Is4() && a.As4()[0] == 127
}
