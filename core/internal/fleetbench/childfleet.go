package fleetbench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"github.com/cscs-dev/cscs/core/demo/sshfleet"
	"golang.org/x/crypto/ssh"
)

// EnvChildFleet, set to a host count in a child's environment, makes the
// benchmark binary serve an in-process SSH fleet instead of running tests
// (see ServeChildFleet). EnvChildKey carries the authorized public key in
// authorized_keys format, EnvChildUser the login name.
const (
	EnvChildFleet = "CSCS_FLEETBENCH_CHILD_FLEET"
	EnvChildKey   = "CSCS_FLEETBENCH_CHILD_KEY"
	EnvChildUser  = "CSCS_FLEETBENCH_CHILD_USER"
)

// childHello is the one JSON line a child fleet prints once it listens.
type childHello struct {
	Addrs      []string `json:"addrs"`
	KnownHosts string   `json:"known_hosts"`
}

// ChildFleet is an sshfleet running in a child process, so that its CPU
// and memory do not count as the core's. Close stops it.
type ChildFleet struct {
	Addrs      []string
	KnownHosts []byte
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	closeOnce  sync.Once
	closeErr   error
}

// StartChildFleet runs exe (a binary whose main calls ServeChildFleet when
// EnvChildFleet is set, such as this package's test binary) with a fleet of
// hosts hosts accepting key for user, and waits until it listens.
func StartChildFleet(ctx context.Context, exe string, hosts int, user string, key ssh.PublicKey) (*ChildFleet, error) {
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", EnvChildFleet, hosts),
		EnvChildKey+"="+string(ssh.MarshalAuthorizedKey(key)), EnvChildUser+"="+user)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("child fleet stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("child fleet stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start child fleet %s: %w", exe, err)
	}
	line, err := bufio.NewReaderSize(stdout, 1<<20).ReadBytes('\n')
	var hello childHello
	if err == nil {
		err = json.Unmarshal(line, &hello)
	}
	if err != nil {
		stdin.Close()
		cmd.Wait()
		return nil, fmt.Errorf("child fleet of %d hosts did not report its addresses: %w", hosts, err)
	}
	return &ChildFleet{Addrs: hello.Addrs, KnownHosts: []byte(hello.KnownHosts), cmd: cmd, stdin: stdin}, nil
}

// Close asks the child to stop (closing its stdin) and waits for it; later
// calls return the first call's result.
func (c *ChildFleet) Close() error {
	c.closeOnce.Do(func() {
		c.stdin.Close()
		if err := c.cmd.Wait(); err != nil {
			c.closeErr = fmt.Errorf("child fleet: %w", err)
		}
	})
	return c.closeErr
}

// ServeChildFleet is the child side: when EnvChildFleet is set it starts
// the fleet, prints its addresses and known_hosts as one JSON line, serves
// until stdin closes and returns true; otherwise it returns false at once.
func ServeChildFleet(stdin io.Reader, stdout io.Writer) (bool, error) {
	n := os.Getenv(EnvChildFleet)
	if n == "" {
		return false, nil
	}
	var hosts int
	if _, err := fmt.Sscanf(n, "%d", &hosts); err != nil {
		return true, fmt.Errorf("%s=%q: want a host count: %w", EnvChildFleet, n, err)
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(os.Getenv(EnvChildKey)))
	if err != nil {
		return true, fmt.Errorf("%s: want an authorized_keys line: %w", EnvChildKey, err)
	}
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{
		Hosts: hosts, User: os.Getenv(EnvChildUser), AuthorizedKey: key,
		MaxConns: hosts + 64,
	})
	if err != nil {
		return true, fmt.Errorf("start fleet: %w", err)
	}
	defer fleet.Close()
	hello := childHello{KnownHosts: string(fleet.KnownHosts())}
	for _, h := range fleet.Hosts() {
		hello.Addrs = append(hello.Addrs, h.Addr())
	}
	line, err := json.Marshal(hello)
	if err != nil {
		return true, fmt.Errorf("encode fleet addresses: %w", err)
	}
	if _, err := stdout.Write(append(line, '\n')); err != nil {
		return true, fmt.Errorf("report fleet addresses: %w", err)
	}
	_, _ = io.Copy(io.Discard, stdin) // serve until the parent closes stdin
	return true, nil
}
