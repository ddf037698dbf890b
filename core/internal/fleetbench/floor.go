// Package fleetbench measures `cscs run` against the floor: the least any
// x/crypto/ssh program must do to reach a fleet (connect with a key, run a
// tiny command; or upload a file over SFTP and run it). It provides the
// floor programs, process resource accounting and the table the fleet
// benchmark prints; the benchmark itself is in this package's tests
// (`make bench-fleet`).
package fleetbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// FloorCommand is the tiny command the floor runs on every host.
const FloorCommand = "cat /proc/loadavg"

// DefaultConcurrency is how many hosts the floor (and cscs in the
// benchmark) works on at once.
const DefaultConcurrency = 64

// Floor is a minimal SSH client for a fleet: key authentication, a fixed
// concurrency, nothing else.
type Floor struct {
	// Addrs are the hosts' "ip:port".
	Addrs []string
	// User is the login name; Signer its private key, or, when Signer is
	// nil, Password its password.
	User     string
	Signer   ssh.Signer
	Password string
	// HostKeyCallback checks host keys (known_hosts of the fleet).
	HostKeyCallback ssh.HostKeyCallback
	// Concurrency bounds hosts in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Timeout bounds each host's connect, handshake and work; 0 means 30s.
	Timeout time.Duration
}

// auth is the floor's one way to log in: the key, else the password.
func (f Floor) auth() []ssh.AuthMethod {
	if f.Signer != nil {
		return []ssh.AuthMethod{ssh.PublicKeys(f.Signer)}
	}
	return []ssh.AuthMethod{ssh.Password(f.Password)}
}

// Exec connects to every host, runs FloorCommand and checks it printed
// something. It returns the first host error, if any, after all hosts ran.
func (f Floor) Exec(ctx context.Context) error {
	return f.each(ctx, func(ctx context.Context, c *ssh.Client, addr string) error {
		out, err := runCommand(ctx, c, FloorCommand, nil)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(out)) == 0 {
			return fmt.Errorf("%q printed nothing", FloorCommand)
		}
		return nil
	})
}

// UploadAndRun connects to every host, uploads payload over SFTP into a
// fresh directory under remoteTmp, makes it executable, runs it and removes
// the directory in the same command. payload must be a program that exits
// 0 and prints something (see Payload).
func (f Floor) UploadAndRun(ctx context.Context, payload []byte, remoteTmp string) error {
	stamp := time.Now().UnixNano()
	return f.each(ctx, func(ctx context.Context, c *ssh.Client, addr string) error {
		dir := path.Join(remoteTmp, fmt.Sprintf("cscs-floor-%d-%s", stamp, strings.NewReplacer(":", "_", ".", "_").Replace(addr)))
		file := path.Join(dir, "payload")
		if err := upload(c, dir, file, payload); err != nil {
			return err
		}
		out, err := runCommand(ctx, c, fmt.Sprintf("%s; rc=$?; rm -rf %s; exit $rc", file, dir), nil)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(out)) == 0 {
			return errors.New("uploaded payload printed nothing")
		}
		return nil
	})
}

func upload(c *ssh.Client, dir, file string, payload []byte) error {
	sc, err := sftp.NewClient(c, sftp.UseConcurrentWrites(true))
	if err != nil {
		return fmt.Errorf("start sftp: %w", err)
	}
	defer sc.Close()
	if err := sc.Mkdir(dir); err != nil {
		return fmt.Errorf("create remote dir %s: %w", dir, err)
	}
	w, err := sc.Create(file)
	if err != nil {
		return fmt.Errorf("create %s: %w", file, err)
	}
	if _, err := w.ReadFrom(bytes.NewReader(payload)); err != nil {
		w.Close()
		return fmt.Errorf("upload %s: %w", file, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close %s: %w", file, err)
	}
	if err := sc.Chmod(file, 0o700); err != nil {
		return fmt.Errorf("chmod %s: %w", file, err)
	}
	return nil
}

// runCommand runs cmd on c with stdin (none when nil) and returns its
// output.
func runCommand(ctx context.Context, c *ssh.Client, cmd string, stdin []byte) ([]byte, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	defer s.Close()
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	out, err := s.Output(cmd)
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", cmd, err)
	}
	return out, nil
}

// each runs work on a fresh connection to every host, Concurrency at a time.
func (f Floor) each(ctx context.Context, work func(context.Context, *ssh.Client, string) error) error {
	conc := f.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cfg := &ssh.ClientConfig{
		User:            f.User,
		Auth:            f.auth(),
		HostKeyCallback: f.HostKeyCallback,
		Timeout:         timeout,
	}
	slots := make(chan struct{}, conc)
	errs := make([]error, len(f.Addrs))
	var wg sync.WaitGroup
	for i, addr := range f.Addrs {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			hctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := f.one(hctx, cfg, addr, work); err != nil {
				errs[i] = fmt.Errorf("host %s: %w", addr, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (f Floor) one(ctx context.Context, cfg *ssh.ClientConfig, addr string, work func(context.Context, *ssh.Client, string) error) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return fmt.Errorf("ssh handshake: %w", err)
	}
	c := ssh.NewClient(sc, chans, reqs)
	defer c.Close()
	return work(ctx, c, addr)
}
