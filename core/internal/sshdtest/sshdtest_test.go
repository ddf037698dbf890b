package sshdtest_test

import (
	"crypto/ed25519"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

func TestIntegrationFleetAcceptsKeyAndPassword(t *testing.T) {
	// 18 hosts need two sshd processes (16 addresses each at most).
	fleet := sshdtest.Start(t, sshdtest.Options{Hosts: 18})
	if len(fleet.Hosts) != 18 {
		t.Fatalf("got %d hosts, want 18", len(fleet.Hosts))
	}
	seen := map[string]bool{}
	for _, h := range fleet.Hosts {
		if seen[h.Addr()] {
			t.Fatalf("address %s used twice", h.Addr())
		}
		seen[h.Addr()] = true
	}
	if fleet.Hosts[0].Port == fleet.Hosts[17].Port && fleet.Hosts[0].HostKey == fleet.Hosts[17].HostKey {
		t.Errorf("hosts 0 and 17 share port and key: expected two sshd processes")
	}

	auths := map[string]ssh.AuthMethod{
		"key":      ssh.PublicKeys(fleet.Signer),
		"password": ssh.Password(fleet.Password),
	}
	for name, auth := range auths {
		t.Run(name, func(t *testing.T) {
			for _, h := range []sshdtest.Host{fleet.Hosts[0], fleet.Hosts[17]} {
				out := runCommand(t, fleet, h, auth, "id -un")
				if got := strings.TrimSpace(out); got != sshdtest.UserName {
					t.Errorf("%s: id -un = %q, want %q", h.Addr(), got, sshdtest.UserName)
				}
			}
		})
	}
}

func TestIntegrationFleetRejectsWrongPassword(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	h := fleet.Hosts[0]
	_, err := ssh.Dial("tcp", h.Addr(), &ssh.ClientConfig{
		User:            fleet.User,
		Auth:            []ssh.AuthMethod{ssh.Password("not-" + fleet.Password)},
		HostKeyCallback: ssh.FixedHostKey(h.HostKey),
		Timeout:         10 * time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("dial with a wrong password: err = %v, want an authentication failure", err)
	}
}

func TestKnownHostsLineVerifiesHost(t *testing.T) {
	signer := newSigner(t)
	h := sshdtest.Host{IP: "127.0.100.7", Port: 2222, HostKey: signer.PublicKey()}
	line := sshdtest.KnownHostsLine(h)
	if !strings.HasPrefix(line, "[127.0.100.7]:2222 ssh-ed25519 ") {
		t.Fatalf("line = %q", line)
	}
	_, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	if len(hosts) != 1 || hosts[0] != knownhosts.Normalize(h.Addr()) {
		t.Errorf("hosts = %v", hosts)
	}
	if string(key.Marshal()) != string(h.HostKey.Marshal()) {
		t.Errorf("key differs from the host key")
	}
}

func TestStartNoSSHAcceptsAndStaysSilent(t *testing.T) {
	addr := sshdtest.StartNoSSH(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(make([]byte, 1))
	var netErr net.Error
	if n != 0 || !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("read = %d, %v; want a timeout with no data", n, err)
	}
}

func TestClosedAddrRefuses(t *testing.T) {
	addr := sshdtest.ClosedAddr(t)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s succeeded, want refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
}

func BenchmarkFleetHandshake(b *testing.B) {
	fleet := sshdtest.Start(b, sshdtest.Options{Hosts: 4})
	for i := 0; b.Loop(); i++ {
		h := fleet.Hosts[i%len(fleet.Hosts)]
		c, err := ssh.Dial("tcp", h.Addr(), &ssh.ClientConfig{
			User:            fleet.User,
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(fleet.Signer)},
			HostKeyCallback: ssh.FixedHostKey(h.HostKey),
		})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

func runCommand(t *testing.T, fleet *sshdtest.Fleet, h sshdtest.Host, auth ssh.AuthMethod, cmd string) string {
	t.Helper()
	c, err := ssh.Dial("tcp", h.Addr(), &ssh.ClientConfig{
		User:            fleet.User,
		Auth:            []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(h.HostKey),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", h.Addr(), err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("session on %s: %v", h.Addr(), err)
	}
	defer s.Close()
	out, err := s.Output(cmd)
	if err != nil {
		t.Fatalf("%s on %s: %v", cmd, h.Addr(), err)
	}
	return string(out)
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	// A fixed seed keeps the test deterministic; any 32 bytes make a key.
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}
