//go:build unix

package sshfleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

func TestExec(t *testing.T) {
	f := startFleet(t, Options{Hosts: 3})
	scratch := t.TempDir()
	hosts := f.Hosts()
	if len(hosts) != 3 {
		t.Fatalf("got %d hosts, want 3", len(hosts))
	}
	tests := map[string]struct {
		host       int
		command    string
		stdin      string
		wantStdout string
		wantStderr string
		wantStatus int
		wantSignal string
	}{
		"output and exit status": {command: "echo hi; exit 3", wantStdout: "hi\n", wantStatus: 3},
		"success":                {host: 1, command: "true"},
		"stderr is separate":     {host: 2, command: "echo out; echo err >&2", wantStdout: "out\n", wantStderr: "err\n"},
		"stdin is piped":         {command: "cat", stdin: "line one\nline two\n", wantStdout: "line one\nline two\n"},
		"stdin EOF ends a reader": {
			command: "wc -c | tr -d ' '", stdin: strings.Repeat("x", 100000), wantStdout: "100000\n",
		},
		"unread stdin does not hang": {command: "echo done", stdin: "ignored", wantStdout: "done\n"},
		"missing command":            {command: "no-such-command-cscs", wantStatus: 127},
		"signal is reported":         {command: "kill -TERM $$", wantSignal: "TERM"},
		"background child with open pipes": {
			command: "sleep 30 & echo started", wantStdout: "started\n",
		},
		"background child is killed at exit": {
			command: "sleep 30 >/dev/null 2>&1 & echo $! > " + filepath.Join(scratch, "bg.pid"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := dial(t, f, hosts[tc.host])
			s := newSession(t, c)
			var stdout, stderr bytes.Buffer
			s.Stdout, s.Stderr = &stdout, &stderr
			if tc.stdin != "" {
				s.Stdin = strings.NewReader(tc.stdin)
			}
			start := time.Now()
			err := s.Run(tc.command)
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("command took %v", elapsed)
			}
			var exitErr *ssh.ExitError
			switch {
			case tc.wantSignal != "":
				if !errors.As(err, &exitErr) || exitErr.Signal() != tc.wantSignal {
					t.Fatalf("Run error = %v, want signal %s", err, tc.wantSignal)
				}
			case tc.wantStatus != 0:
				if !errors.As(err, &exitErr) || exitErr.ExitStatus() != tc.wantStatus {
					t.Fatalf("Run error = %v, want exit status %d", err, tc.wantStatus)
				}
			case err != nil:
				t.Fatalf("Run: %v (stderr %q)", err, stderr.String())
			}
			if got := stdout.String(); got != tc.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tc.wantStdout)
			}
			if tc.wantStderr != "" && stderr.String() != tc.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tc.wantStderr)
			}
		})
	}
	pidText, err := os.ReadFile(filepath.Join(scratch, "bg.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil {
		t.Fatal(err)
	}
	if !processGone(pid, 3*time.Second) {
		t.Errorf("background process %d outlived its command", pid)
	}
}

// processGone polls until pid no longer exists (a killed process may stay
// a zombie briefly until it is reaped).
func processGone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStdinCloseWrite(t *testing.T) {
	f := startFleet(t, Options{Hosts: 1})
	c := dial(t, f, f.Hosts()[0])
	s := newSession(t, c)
	stdin, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("cat; echo end"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, "ping\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "ping\n" {
		t.Fatalf("echoed %q, %v; want %q", buf, err, "ping\n")
	}
	if err := stdin.Close(); err != nil { // sends EOF (CloseWrite)
		t.Fatal(err)
	}
	rest, err := io.ReadAll(stdout)
	if err != nil || string(rest) != "end\n" {
		t.Fatalf("after EOF read %q, %v; want %q", rest, err, "end\n")
	}
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// TestPlatformProbe follows the transport's flow: detect the platform
// with `uname -s -m; id -u`, upload a program to ${TMPDIR:-/tmp}/cscs-<uid>
// over sftp and run it.
func TestPlatformProbe(t *testing.T) {
	f := startFleet(t, Options{Hosts: 1, TempRoot: t.TempDir()})
	c := dial(t, f, f.Hosts()[0])

	out := runOutput(t, c, "uname -s -m; id -u")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("probe output %q, want two lines", out)
	}
	osArch := strings.Fields(lines[0])
	if len(osArch) != 2 || !strings.EqualFold(osArch[0], runtime.GOOS) {
		t.Errorf("uname -s -m = %q, want OS %s and a machine name", lines[0], runtime.GOOS)
	}
	if lines[1] != strconv.Itoa(os.Getuid()) {
		t.Errorf("id -u = %q, want %d", lines[1], os.Getuid())
	}

	dir := strings.TrimSpace(runOutput(t, c, `d="${TMPDIR:-/tmp}/cscs-$(id -u)"; mkdir -p -m 700 "$d" && echo "$d"`))
	if !strings.HasPrefix(dir, f.opts.TempRoot) {
		t.Errorf("remote dir %q is not under the host's private temp root %q", dir, f.opts.TempRoot)
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer sc.Close()
	agent := path.Join(dir, "agent.sh")
	writeRemote(t, sc, agent, "#!/bin/sh\nread req\necho \"agent got $req\"\n")
	if err := sc.Chmod(agent, 0o700); err != nil {
		t.Fatal(err)
	}
	got := runOutputStdin(t, c, agent, `{"version":1}`+"\n")
	if got != "agent got {\"version\":1}\n" {
		t.Errorf("agent replied %q", got)
	}
}

func TestSFTP(t *testing.T) {
	f := startFleet(t, Options{Hosts: 2})
	c := dial(t, f, f.Hosts()[1])
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer sc.Close()
	dir := t.TempDir()
	payload := bytes.Repeat([]byte("cscs agent bytes\n"), 20000)

	upload := filepath.Join(dir, "upload.bin")
	writeRemote(t, sc, upload, string(payload))
	onDisk, err := os.ReadFile(upload)
	if err != nil || !bytes.Equal(onDisk, payload) {
		t.Fatalf("uploaded file on disk differs (%d bytes, %v)", len(onDisk), err)
	}

	if err := sc.Chmod(upload, 0o700); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	if st, err := os.Stat(upload); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("mode after chmod = %v, %v; want 0700", st.Mode(), err)
	}

	renamed := filepath.Join(dir, "renamed.bin")
	if err := sc.PosixRename(upload, renamed); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if _, err := os.Stat(upload); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old name still exists after rename: %v", err)
	}

	r, err := sc.Open(renamed)
	if err != nil {
		t.Fatalf("open for download: %v", err)
	}
	downloaded, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(downloaded, payload) {
		t.Fatalf("downloaded %d bytes, %v; want the %d uploaded bytes", len(downloaded), err, len(payload))
	}

	st, err := sc.Stat(renamed)
	if err != nil || st.Size() != int64(len(payload)) || st.Mode().Perm() != 0o700 {
		t.Fatalf("stat = %v, %v", st, err)
	}
	if err := sc.Remove(renamed); err != nil {
		t.Fatalf("remove: %v", err)
	}
}

func TestAuthentication(t *testing.T) {
	key := sshdtest.NewSigner(t)
	f := startFleet(t, Options{Hosts: 1, Password: testPassword, AuthorizedKey: key.PublicKey()})
	hostKeys := knownHostsCallback(t, f)
	tests := map[string]struct {
		user   string
		auth   ssh.AuthMethod
		wantOK bool
	}{
		"right password":     {user: testUser, auth: ssh.Password(testPassword), wantOK: true},
		"wrong password":     {user: testUser, auth: ssh.Password("wrong")},
		"password prefix":    {user: testUser, auth: ssh.Password(testPassword[:5])},
		"wrong user":         {user: "root2", auth: ssh.Password(testPassword)},
		"authorized key":     {user: testUser, auth: ssh.PublicKeys(key), wantOK: true},
		"other key":          {user: testUser, auth: ssh.PublicKeys(sshdtest.NewSigner(t))},
		"key for other user": {user: "someone", auth: ssh.PublicKeys(key)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := &ssh.ClientConfig{User: tc.user, Auth: []ssh.AuthMethod{tc.auth}, HostKeyCallback: hostKeys, Timeout: 10 * time.Second}
			c, err := ssh.Dial("tcp", f.Hosts()[0].Addr(), cfg)
			if c != nil {
				c.Close()
			}
			if tc.wantOK && err != nil {
				t.Fatalf("dial: %v", err)
			}
			if !tc.wantOK && (err == nil || !strings.Contains(err.Error(), "unable to authenticate")) {
				t.Fatalf("dial error = %v, want an authentication failure", err)
			}
		})
	}
}

func TestHostKeys(t *testing.T) {
	f := startFleet(t, Options{Hosts: 3})
	hosts := f.Hosts()
	seen := map[string]bool{}
	for _, h := range hosts {
		fp := ssh.FingerprintSHA256(h.HostKey)
		if seen[fp] {
			t.Fatalf("host %s reuses host key %s", h.Addr(), fp)
		}
		seen[fp] = true
		if h.HostKey.Type() != ssh.KeyAlgoED25519 {
			t.Errorf("host %s key type %s, want ed25519", h.Addr(), h.HostKey.Type())
		}
		c, err := ssh.Dial("tcp", h.Addr(), passwordConfig(f.HostKeyCallback(), testUser, testPassword))
		if err != nil {
			t.Fatalf("dial %s with HostKeyCallback: %v", h.Addr(), err)
		}
		c.Close()
	}

	// A known_hosts file that pins host 0's key for host 1 must reject host 1.
	swapped := knownhosts.Line([]string{knownhosts.Normalize(hosts[1].Addr())}, hosts[0].HostKey) + "\n"
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(swapped), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ssh.Dial("tcp", hosts[1].Addr(), passwordConfig(cb, testUser, testPassword))
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) || len(keyErr.Want) == 0 {
		t.Fatalf("dial with a wrong pinned key: %v, want a knownhosts key mismatch", err)
	}
}

func TestRefusedRequests(t *testing.T) {
	f := startFleet(t, Options{Hosts: 1})
	c := dial(t, f, f.Hosts()[0])
	tests := map[string]func(*ssh.Session) error{
		"pty":       func(s *ssh.Session) error { return s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}) },
		"shell":     func(s *ssh.Session) error { return s.Shell() },
		"env":       func(s *ssh.Session) error { return s.Setenv("LANG", "C") },
		"subsystem": func(s *ssh.Session) error { return s.RequestSubsystem("netconf") },
	}
	for name, request := range tests {
		t.Run(name, func(t *testing.T) {
			s := newSession(t, c)
			if err := request(s); err == nil {
				t.Fatalf("%s request was accepted, want it refused", name)
			}
		})
	}
	if _, _, err := c.OpenChannel("direct-tcpip", nil); err == nil {
		t.Fatal("port forwarding channel was accepted")
	}
	if got := runOutput(t, c, "echo still usable"); got != "still usable\n" {
		t.Fatalf("connection after refusals: %q", got)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := Start(context.Background(), Options{Hosts: 3, User: testUser, Password: testPassword, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	host := f.Hosts()[0]
	c, err := ssh.Dial("tcp", host.Addr(), passwordConfig(f.HostKeyCallback(), testUser, testPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := newSession(t, c)
	stdout, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("echo $$; exec sleep 60"); err != nil {
		t.Fatal(err)
	}
	var pidLine [32]byte
	n, err := stdout.Read(pidLine[:])
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidLine[:n])))
	if err != nil {
		t.Fatalf("pid line %q: %v", pidLine[:n], err)
	}

	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Wait(); err == nil {
		t.Error("running session ended without error after Close")
	}
	if !processGone(pid, 3*time.Second) {
		t.Errorf("command process %d still exists after Close", pid)
	}
	for _, h := range f.Hosts() {
		if conn, err := net.DialTimeout("tcp", h.Addr(), time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after Close", h.Addr())
		}
	}
	c.Close()
	if n := waitGoroutines(before+2, 3*time.Second); n > before+2 {
		t.Errorf("%d goroutines after Close, %d before Start", n, before)
	}
}

func TestStartContext(t *testing.T) {
	t.Run("cancelled before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if f, err := Start(ctx, Options{Hosts: 1, User: testUser, Password: testPassword}); err == nil {
			f.Close()
			t.Fatal("Start with a cancelled context succeeded")
		}
	})
	t.Run("cancelled after start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f, err := Start(ctx, Options{Hosts: 1, User: testUser, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cancel()
		c := dial(t, f, f.Hosts()[0])
		if got := runOutput(t, c, "echo up"); got != "up\n" {
			t.Fatalf("fleet after start context ended: %q", got)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Run("connection limit", func(t *testing.T) {
		f := startFleet(t, Options{Hosts: 2, MaxConns: 1})
		dial(t, f, f.Hosts()[0])
		cfg := passwordConfig(f.HostKeyCallback(), testUser, testPassword)
		if c, err := ssh.Dial("tcp", f.Hosts()[1].Addr(), cfg); err == nil {
			c.Close()
			t.Fatal("second connection accepted beyond MaxConns=1")
		}
	})
	t.Run("handshake deadline", func(t *testing.T) {
		f := startFleet(t, Options{Hosts: 1, HandshakeTimeout: 200 * time.Millisecond})
		conn, err := net.Dial("tcp", f.Hosts()[0].Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Say nothing; the server must hang up after its deadline.
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, conn)
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			t.Fatal("server kept a silent connection open past its handshake deadline")
		}
	})
	t.Run("commands wait for a slot", func(t *testing.T) {
		f := startFleet(t, Options{Hosts: 1, MaxCommands: 1})
		c := dial(t, f, f.Hosts()[0])
		var wg sync.WaitGroup
		outs := make([]string, 3)
		for i := range outs {
			wg.Go(func() {
				s, err := c.NewSession()
				if err != nil {
					t.Error(err)
					return
				}
				defer s.Close()
				b, err := s.Output(fmt.Sprintf("sleep 0.1; echo %d", i))
				if err != nil {
					t.Error(err)
				}
				outs[i] = string(b)
			})
		}
		wg.Wait()
		for i, o := range outs {
			if o != fmt.Sprintf("%d\n", i) {
				t.Errorf("command %d printed %q", i, o)
			}
		}
	})
}

func TestTempRootIsPerHost(t *testing.T) {
	root := t.TempDir()
	f := startFleet(t, Options{Hosts: 2, TempRoot: root})
	dirs := map[string]bool{}
	for _, h := range f.Hosts() {
		d := strings.TrimSpace(runOutput(t, dial(t, f, h), "echo $TMPDIR"))
		if filepath.Dir(d) != root {
			t.Errorf("host %s TMPDIR = %q, want a directory in %q", h.Addr(), d, root)
		}
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("host temp dir %q: %v, %v; want mode 0700", d, st, err)
		}
		dirs[d] = true
	}
	if len(dirs) != 2 {
		t.Fatalf("hosts share temp dirs: %v", dirs)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for name, ip := range map[string]string{"private": "10.1.2.3", "unspecified": "0.0.0.0", "ipv6": "::1"} {
		t.Run(name, func(t *testing.T) {
			f, err := Start(context.Background(), Options{Hosts: 1, User: "u", Password: "p", FirstIP: netip.MustParseAddr(ip)})
			if err == nil {
				f.Close()
				t.Fatalf("Start on %s succeeded, want a refusal", ip)
			}
		})
	}
}

func TestLargeFleet(t *testing.T) {
	const hostCount = 300
	start := time.Now()
	f := startFleet(t, Options{Hosts: hostCount})
	t.Logf("started %d hosts in %v", hostCount, time.Since(start))
	hosts := f.Hosts()
	if len(hosts) != hostCount {
		t.Fatalf("got %d hosts", len(hosts))
	}
	ips := map[string]bool{}
	for _, h := range hosts {
		a := netip.MustParseAddr(h.IP)
		if b := a.As4(); b[0] != 127 || b[3] == 0 || b[3] == 255 {
			t.Errorf("unexpected host address %s", a)
		}
		if h.Port != hosts[0].Port {
			t.Errorf("host %s port %d, want the shared port %d", h.IP, h.Port, hosts[0].Port)
		}
		ips[h.IP] = true
	}
	if len(ips) != hostCount {
		t.Fatalf("%d distinct addresses for %d hosts", len(ips), hostCount)
	}
	if last := hosts[hostCount-1].IP; last != "127.0.51.46" {
		t.Errorf("last host %s, want 127.0.51.46 (300 hosts from 127.0.50.1 skipping .255 and .0)", last)
	}
	if lines := bytes.Count(f.KnownHosts(), []byte("\n")); lines != hostCount {
		t.Errorf("known_hosts has %d lines, want %d", lines, hostCount)
	}

	// Handshake with every host, 16 at a time; run a command on a few.
	hostKeys := knownHostsCallback(t, f)
	cfg := passwordConfig(hostKeys, testUser, testPassword)
	start = time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				c, err := ssh.Dial("tcp", hosts[i].Addr(), cfg)
				if err != nil {
					t.Errorf("dial %s: %v", hosts[i].Addr(), err)
					continue
				}
				if i%100 == 0 || i == hostCount-1 {
					out := strings.Fields(runOutput(t, c, "echo $SSH_CONNECTION"))
					local := c.LocalAddr().(*net.TCPAddr)
					want := []string{local.IP.String(), strconv.Itoa(local.Port), hosts[i].IP, strconv.Itoa(hosts[i].Port)}
					if !slices.Equal(out, want) {
						t.Errorf("host %s: SSH_CONNECTION = %q, want %q", hosts[i].Addr(), out, want)
					}
				}
				c.Close()
			}
		})
	}
	for i := range hosts {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("handshakes with %d hosts in %v", hostCount, time.Since(start))
}

// newSession opens a session on c that is closed when the test ends.
func newSession(t *testing.T, c *ssh.Client) *ssh.Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func runOutput(t *testing.T, c *ssh.Client, command string) string {
	t.Helper()
	return runOutputStdin(t, c, command, "")
}

func runOutputStdin(t *testing.T, c *ssh.Client, command, stdin string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer s.Close()
	s.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	s.Stderr = &stderr
	out, err := s.Output(command)
	if err != nil {
		t.Fatalf("run %q: %v (stderr %q)", command, err, stderr.String())
	}
	return string(out)
}

func writeRemote(t *testing.T, sc *sftp.Client, name, content string) {
	t.Helper()
	w, err := sc.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
}

// BenchmarkStart measures start-up and shutdown of a load-test sized
// fleet: go test -run '^$' -bench Start ./core/sshfleet
func BenchmarkStart(b *testing.B) {
	for _, hosts := range []int{300, 2000} {
		b.Run(strconv.Itoa(hosts), func(b *testing.B) {
			for b.Loop() {
				f, err := Start(context.Background(), Options{Hosts: hosts, User: testUser, Password: testPassword})
				if err != nil {
					b.Fatal(err)
				}
				if got := len(f.Hosts()); got != hosts {
					b.Fatalf("got %d hosts", got)
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
