package transport

import (
	"bytes"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostPort is a host and port as known_hosts matching compares them.
type hostPort struct{ host, port string }

// plainIndex holds the keys of a known_hosts file whose every line is
// plain — no marker, no hashed name, every host pattern a name or
// [name]:port without wildcard or negation — by the host and port each
// pattern names. knownhosts scans every line of the file for each check,
// so a fleet of N hosts costs N² line matches a round (40 % of the core's
// CPU at 10,000 hosts); the index answers in one lookup, with the verdict
// knownhosts gives for such a file. A file with any other line has no
// index (nil), and every check goes to knownhosts.
type plainIndex map[hostPort][]knownhosts.KnownKey

// indexPlain returns the index of content, the known_hosts file at path,
// or nil when a line is not plain or does not parse.
func indexPlain(path string, content []byte) plainIndex {
	idx := plainIndex{}
	for i, line := range bytes.Split(content, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		marker, hosts, key, _, rest, err := ssh.ParseKnownHosts(line)
		if err != nil || marker != "" || len(bytes.TrimSpace(rest)) > 0 {
			return nil
		}
		for _, p := range hosts {
			hp, ok := plainPattern(p)
			if !ok {
				return nil
			}
			idx[hp] = append(idx[hp], knownhosts.KnownKey{Key: key, Filename: path, Line: i + 1})
		}
	}
	return idx
}

// plainPattern is the host and port a plain host pattern names, as
// knownhosts reads it (a bare name is on port 22); ok is false for a
// hashed name, a wildcard or a negation.
func plainPattern(p string) (hostPort, bool) {
	if p == "" || p[0] == '|' || p[0] == '!' || strings.ContainsAny(p, "*?") {
		return hostPort{}, false
	}
	host, port, err := net.SplitHostPort(p)
	switch {
	case err == nil:
		return hostPort{host, port}, true
	case p[0] == '[':
		return hostPort{}, false
	}
	return hostPort{p, "22"}, true
}

// checkedAddress is the host and port a check compares: address when
// given, else remote's, as knownhosts does.
func checkedAddress(address string, remote net.Addr) (hostPort, bool) {
	if address == "" && remote != nil {
		address = remote.String()
	}
	host, port, err := net.SplitHostPort(address)
	return hostPort{host, port}, err == nil
}

// keys lists the keys on record for address reached at remote; ok is
// false when the index cannot say (no index, or an address knownhosts
// would refuse to read), and knownhosts must.
func (idx plainIndex) keys(address string, remote net.Addr) ([]knownhosts.KnownKey, bool) {
	if idx == nil {
		return nil, false
	}
	hp, ok := checkedAddress(address, remote)
	if !ok {
		return nil, false
	}
	return idx[hp], true
}

// check is knownhosts' verdict on key for address reached at remote, for
// a file the index holds whole: nil when a line for the address holds
// key, else a *knownhosts.KeyError listing the keys the file holds for
// it. ok is false when the index cannot say (see keys; certificates go
// to knownhosts too).
func (idx plainIndex) check(address string, remote net.Addr, key ssh.PublicKey) (ok bool, err error) {
	if _, cert := key.(*ssh.Certificate); cert {
		return false, nil
	}
	want, ok := idx.keys(address, remote)
	if !ok {
		return false, nil
	}
	blob := key.Marshal()
	for _, k := range want {
		if bytes.Equal(k.Key.Marshal(), blob) {
			return true, nil
		}
	}
	return true, &knownhosts.KeyError{Want: want}
}
