// Package sshfleet runs a fleet of SSH servers inside the current process,
// one per loopback address, for `cscs demo` and for load tests with
// thousands of hosts on a machine that has nothing but Go installed.
//
// Each host has its own ed25519 host key and listener and serves session
// channels the way OpenSSH does for a non-interactive client: "exec" runs
// `Shell -c <command>` as a real process, the "sftp" subsystem is served by
// github.com/pkg/sftp on the real file system. Pseudo-terminals, shells,
// port forwarding and environment requests are refused.
//
// Security: every authenticated client can run any command as the OS user
// that owns this process and read or write any file that user can. The
// fleet therefore refuses to listen anywhere but 127.0.0.0/8. Use it for
// demos and tests only, never as a real SSH server.
package sshfleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host is one simulated machine of a fleet.
type Host struct {
	// IP is the loopback address the host listens on.
	IP string
	// Port is its TCP port.
	Port int
	// HostKey is its ed25519 public host key.
	HostKey ssh.PublicKey
}

// Addr returns "ip:port", ready for ssh.Dial.
func (h Host) Addr() string { return net.JoinHostPort(h.IP, strconv.Itoa(h.Port)) }

// Fleet is a running set of in-process SSH hosts. Close stops it.
type Fleet struct {
	opts      Options
	hosts     []Host
	servers   []*hostServer
	workDir   string
	ctx       context.Context
	cancel    context.CancelFunc
	connSlots chan struct{}
	cmdSlots  chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// hostServer is what one host needs to serve connections.
type hostServer struct {
	host    Host
	ln      net.Listener
	config  *ssh.ServerConfig
	tempDir string // empty: inherit the process's temp directory
}

// Start generates host keys, binds one listener per host and serves until
// Close is called. ctx bounds the start-up only: cancelling it later does
// not stop the fleet (its values still reach command contexts).
func Start(ctx context.Context, opts Options) (*Fleet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start ssh fleet: %w", err)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("start ssh fleet: %w", err)
	}
	first := opts.FirstIP
	defaulted := !first.IsValid()
	if defaulted {
		first = DefaultFirstIP()
	}
	addrs, err := planAddrs(first, opts.Hosts)
	if err != nil {
		return nil, fmt.Errorf("start ssh fleet: %w", err)
	}
	auth := newAuthenticator(opts.User, opts.Password, opts.AuthorizedKey)

	lns, err := listenPlan(ctx, addrs, opts.Port, defaulted && opts.Port == 0)
	if err != nil {
		return nil, fmt.Errorf("start ssh fleet: %w", err)
	}
	f := &Fleet{
		opts:      opts,
		workDir:   commandDir(),
		connSlots: make(chan struct{}, opts.MaxConns),
		cmdSlots:  make(chan struct{}, opts.MaxCommands),
		conns:     make(map[net.Conn]struct{}),
	}
	if err := f.prepareHosts(ctx, lns, auth); err != nil {
		closeAll(lns)
		return nil, fmt.Errorf("start ssh fleet: %w", err)
	}
	if lns[0].Addr().(*net.TCPAddr).IP.String() != addrs[0].String() {
		opts.Logf("sshfleet: %s is not available, all %d hosts listen on 127.0.0.1 with one port each", addrs[0], len(lns))
	}

	f.ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, s := range f.servers {
		f.wg.Add(1)
		go f.acceptLoop(s)
	}
	return f, nil
}

// prepareHosts creates a host key, server config and, with TempRoot, a
// private temp directory for every listener.
func (f *Fleet) prepareHosts(ctx context.Context, lns []net.Listener, auth *authenticator) error {
	if f.opts.TempRoot != "" {
		if err := os.MkdirAll(f.opts.TempRoot, 0o700); err != nil {
			return fmt.Errorf("create temp root: %w", err)
		}
	}
	f.hosts = make([]Host, len(lns))
	f.servers = make([]*hostServer, len(lns))
	for i, ln := range lns {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return fmt.Errorf("generate host key: %w", err)
		}
		signer, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			return fmt.Errorf("use host key: %w", err)
		}
		tcp := ln.Addr().(*net.TCPAddr)
		h := Host{IP: tcp.IP.String(), Port: tcp.Port, HostKey: signer.PublicKey()}
		s := &hostServer{host: h, ln: ln, config: auth.serverConfig(signer)}
		if f.opts.TempRoot != "" {
			s.tempDir = filepath.Join(f.opts.TempRoot, h.IP+"_"+strconv.Itoa(h.Port))
			if err := os.Mkdir(s.tempDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("create host temp dir: %w", err)
			}
		}
		f.hosts[i] = h
		f.servers[i] = s
	}
	return nil
}

// Hosts returns the fleet's hosts in address order.
func (f *Fleet) Hosts() []Host {
	return append([]Host(nil), f.hosts...)
}

// KnownHosts returns one known_hosts line per host, newline terminated,
// suitable for golang.org/x/crypto/ssh/knownhosts or OpenSSH.
func (f *Fleet) KnownHosts() []byte {
	var b strings.Builder
	for _, h := range f.hosts {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(h.Addr())}, h.HostKey))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// HostKeyCallback verifies that a server is the fleet host listening on
// the dialled address, without a known_hosts file.
func (f *Fleet) HostKeyCallback() ssh.HostKeyCallback {
	keys := make(map[string][]byte, len(f.hosts))
	for _, h := range f.hosts {
		keys[h.Addr()] = h.HostKey.Marshal()
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		want, ok := keys[remote.String()]
		if !ok {
			return fmt.Errorf("host key check: %s (%s) is not a host of this fleet", hostname, remote)
		}
		if string(want) != string(key.Marshal()) {
			return fmt.Errorf("host key check: %s (%s) presented a key that is not its fleet host key", hostname, remote)
		}
		return nil
	}
}

// Close stops accepting, closes every connection, kills running commands
// and waits until all goroutines of the fleet have returned. It is safe to
// call more than once.
func (f *Fleet) Close() error {
	f.closeOnce.Do(func() {
		f.cancel()
		f.mu.Lock()
		f.closed = true
		conns := make([]net.Conn, 0, len(f.conns))
		for c := range f.conns {
			conns = append(conns, c)
		}
		f.mu.Unlock()
		var errs []error
		for _, s := range f.servers {
			if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("close listener %s: %w", s.host.Addr(), err))
			}
		}
		for _, c := range conns {
			c.Close()
		}
		f.closeErr = errors.Join(errs...)
		f.wg.Wait()
	})
	return f.closeErr
}

// addrPort converts a connection address for the SSH_CONNECTION variable,
// writing IPv4 addresses in dotted form.
func addrPort(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	if tcp, ok := a.(*net.TCPAddr); ok {
		ap = tcp.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// commandDir is where commands start and relative sftp paths resolve: the
// user's home directory, as with OpenSSH.
func commandDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		if st, err := os.Stat(home); err == nil && st.IsDir() {
			return home
		}
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return string(filepath.Separator)
}
