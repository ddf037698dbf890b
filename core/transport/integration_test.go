//go:build linux

package transport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
	"github.com/cscs-dev/cscs/core/transport"
)

// echoAgent is a stand-in agent: it copies stdin to stdout.
var echoAgent = []byte("#!/bin/sh\ncat\n")

func TestIntegrationDialAndDetect(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	h := fleet.Hosts[0]
	auths := map[string]transport.Auth{
		"password": {Password: fleet.Password},
		"key file": {KeyFiles: []string{fleet.KeyFile}},
	}
	for name, auth := range auths {
		t.Run(name, func(t *testing.T) {
			c := dial(t, fleet, h, auth, transport.Options{})
			p, err := c.Detect(testContext(t))
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			uid := strconv.Itoa(fleet.UID)
			// The fleet's user logs in with /bin/sh: a POSIX login shell.
			want := transport.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH, UID: uid, RemoteDir: "/tmp/cscs-" + uid, Shell: transport.ShellPOSIX}
			if p != want {
				t.Errorf("detected %+v, want %+v", p, want)
			}
		})
	}
}

func TestIntegrationEnsureUploadsOnceAndRunEchoes(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	dir := privateTestDir(t)
	c, p, ctx := detectOn(t, fleet, transport.Auth{Password: fleet.Password}, dir)
	if p.RemoteDir != dir {
		t.Fatalf("RemoteDir %q, want the override %q", p.RemoteDir, dir)
	}
	a := transport.Artifact{Name: "cscs-agent", Data: echoAgent}

	remotePath, uploaded, err := c.Ensure(ctx, p, a)
	if err != nil || !uploaded {
		t.Fatalf("first Ensure: uploaded %v, %v; want an upload", uploaded, err)
	}
	sum := sha256.Sum256(echoAgent)
	digest := hex.EncodeToString(sum[:])
	if want := filepath.Join(dir, "cscs-agent-"+digest[:16]); remotePath != want {
		t.Errorf("remote path %q, want %q", remotePath, want)
	}
	assertOwnedPrivate(t, dir, fleet.UID, true)
	assertOwnedPrivate(t, remotePath, fleet.UID, false)
	if got, err := os.ReadFile(remotePath); err != nil || !bytes.Equal(got, echoAgent) {
		t.Fatalf("remote file holds %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("remote dir holds %d entries, want only the agent (no temp files left)", len(entries))
	}

	again, uploaded, err := c.Ensure(ctx, p, a)
	if err != nil || uploaded || again != remotePath {
		t.Fatalf("second Ensure: %q uploaded %v, %v; want no upload of %q", again, uploaded, err, remotePath)
	}

	request := []byte(`{"version":1,"nonce":"n-1"}` + "\n")
	stdout, _, err := c.Run(ctx, p, remotePath, digest, request, 1<<20)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !bytes.Equal(stdout, request) {
		t.Errorf("stdout %q, want the request echoed", stdout)
	}
}

func TestIntegrationEnsureAllShipsAgentAndModules(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{LogLevel: "VERBOSE"})
	dir := privateTestDir(t)
	c, p, ctx := detectOn(t, fleet, transport.Auth{Password: fleet.Password}, dir)
	script := []byte("#!/bin/sh\necho '{\"metrics\":[{\"name\":\"users.logged_in\",\"value\":3,\"unit\":\"count\"}]}'\n")
	arts := []transport.Artifact{
		{Name: "cscs-agent", Data: echoAgent},
		{Name: "users.sh", Data: script, SHA256: digestOf(script)},
	}
	wantPaths := []string{
		filepath.Join(dir, "cscs-agent-"+digestOf(echoAgent)[:16]),
		filepath.Join(dir, "users-"+digestOf(script)[:16]+".sh"),
	}

	paths, uploaded, err := c.EnsureAll(ctx, p, arts)
	if err != nil {
		t.Fatalf("first EnsureAll: %v", err)
	}
	assertSFTPSessions(t, fleet, 1) // both artifacts over one session
	if !slices.Equal(paths, wantPaths) || !slices.Equal(uploaded, []bool{true, true}) {
		t.Fatalf("first EnsureAll: paths %q uploaded %v; want %q both uploaded", paths, uploaded, wantPaths)
	}
	for i, a := range arts {
		assertOwnedPrivate(t, paths[i], fleet.UID, false)
		if got, err := os.ReadFile(paths[i]); err != nil || !bytes.Equal(got, a.Data) {
			t.Errorf("%s holds %q, %v; want %s's data", paths[i], got, err, a.Name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("remote dir holds %d entries, want the two artifacts only", len(entries))
	}

	paths, uploaded, err = c.EnsureAll(ctx, p, arts)
	if err != nil || !slices.Equal(paths, wantPaths) || !slices.Equal(uploaded, []bool{false, false}) {
		t.Fatalf("second EnsureAll: paths %q uploaded %v, %v; want nothing uploaded", paths, uploaded, err)
	}
	assertSFTPSessions(t, fleet, 2)

	// A truncated module is replaced, the agent left alone.
	if err := os.Truncate(wantPaths[1], 3); err != nil {
		t.Fatal(err)
	}
	if _, uploaded, err = c.EnsureAll(ctx, p, arts); err != nil || !slices.Equal(uploaded, []bool{false, true}) {
		t.Fatalf("EnsureAll after truncation: uploaded %v, %v; want only the module uploaded", uploaded, err)
	}
	if got, _ := os.ReadFile(wantPaths[1]); !bytes.Equal(got, script) {
		t.Errorf("module not restored: %q", got)
	}

	// The shipped script runs (Run checks its checksum first).
	stdout, _, err := c.Run(ctx, p, paths[1], digestOf(script), nil, 1<<20)
	if err != nil || !strings.Contains(string(stdout), "users.logged_in") {
		t.Fatalf("run shipped module: %q, %v", stdout, err)
	}

	// Ensure goes through the same path.
	one, up, err := c.Ensure(ctx, p, arts[1])
	if err != nil || up || one != wantPaths[1] {
		t.Fatalf("Ensure: %q uploaded %v, %v; want %q without upload", one, up, err, wantPaths[1])
	}

	// A bad artifact fails the call before anything is written.
	if _, _, err := c.EnsureAll(ctx, p, []transport.Artifact{{Name: "new.sh", Data: []byte("x")}, {Name: "bad/name", Data: script}}); transport.KindOf(err) != transport.Config {
		t.Fatalf("EnsureAll with a bad name: %v, want a Config error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new-"+digestOf([]byte("x"))[:16]+".sh")); err == nil {
		t.Error("EnsureAll uploaded an artifact although another one was refused")
	}
}

func TestIntegrationRunFailures(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	c, p, ctx := detectOn(t, fleet, transport.Auth{Password: fleet.Password}, privateTestDir(t))
	tests := map[string]struct {
		script    string
		maxOutput int
		wantKind  transport.Kind
		wantText  []string
	}{
		"non-zero exit": {
			script:   "#!/bin/sh\necho 'boom: disk \033[31mfull' >&2\necho second >&2\nexit 3\n",
			wantKind: transport.Agent,
			wantText: []string{"status 3", "boom: disk ?[31mfull | second"},
		},
		"agent stopped at its deadline": {
			script:   "#!/bin/sh\necho 'cscs-agent: stopped before the report was complete: its deadline of 1s passed' >&2\nexit 4\n",
			wantKind: transport.Timeout,
			wantText: []string{"stopped before its report (status 4)", "its deadline of 1s passed"},
		},
		"too much output": {
			script:    "#!/bin/sh\nexec yes\n",
			maxOutput: 1024,
			wantKind:  transport.Protocol,
			wantText:  []string{"more than 1024 bytes"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := transport.Artifact{Name: "script", Data: []byte(tc.script)}
			remotePath, _, err := c.Ensure(ctx, p, a)
			if err != nil {
				t.Fatal(err)
			}
			maxOutput := tc.maxOutput
			if maxOutput == 0 {
				maxOutput = 1 << 20
			}
			start := time.Now()
			_, _, err = c.Run(ctx, p, remotePath, digestOf(a.Data), nil, maxOutput)
			t.Logf("run error: %v", err)
			checkError(t, "run", err, tc.wantKind, tc.wantText)
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

func TestIntegrationRunDetectsTamperedAgent(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	c, p, ctx := detectOn(t, fleet, transport.Auth{KeyFiles: []string{fleet.KeyFile}}, privateTestDir(t))
	a := transport.Artifact{Name: "cscs-agent", Data: echoAgent}
	remotePath, _, err := c.Ensure(ctx, p, a)
	if err != nil {
		t.Fatal(err)
	}
	// Same size, other content: Ensure cannot tell, Run must.
	if err := os.WriteFile(remotePath, []byte("#!/bin/sh\nid\n\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := c.Run(ctx, p, remotePath, digestOf(echoAgent), []byte("hi"), 1<<20)
	t.Logf("run error: %v", err)
	if transport.KindOf(err) != transport.Agent || !errors.Is(err, transport.ErrAgentChecksum) {
		t.Fatalf("run tampered agent: %v, want ErrAgentChecksum", err)
	}
	if len(stdout) != 0 {
		t.Errorf("tampered agent ran and printed %q", stdout)
	}
	if _, uploaded, err := c.Ensure(ctx, p, a); err != nil || uploaded {
		t.Fatalf("Ensure after tampering: uploaded %v, %v; same size and mode look fine", uploaded, err)
	}

	// The caller's recovery: upload again and retry once.
	if _, err := c.Upload(ctx, p, a); err != nil {
		t.Fatalf("upload: %v", err)
	}
	stdout, _, err = c.Run(ctx, p, remotePath, digestOf(echoAgent), []byte("hi"), 1<<20)
	if err != nil || string(stdout) != "hi" {
		t.Fatalf("run after re-upload: %q, %v", stdout, err)
	}

	// A missing file is reported the same way.
	if err := os.Remove(remotePath); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Run(ctx, p, remotePath, digestOf(echoAgent), nil, 1<<20); !errors.Is(err, transport.ErrAgentChecksum) {
		t.Fatalf("run missing agent: %v, want ErrAgentChecksum", err)
	}
}

func TestIntegrationEnsureRefusesUnsafeDir(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	tests := map[string]struct {
		// prepare makes the remote directory at dir.
		prepare  func(t *testing.T, dir string)
		wantText string // empty: Ensure must succeed
	}{
		"owned by another user": {
			prepare:  func(t *testing.T, dir string) { mkdirOwned(t, dir, 0, 0o700) },
			wantText: "belongs to uid 0",
		},
		"symbolic link to a private dir": {
			prepare: func(t *testing.T, dir string) {
				target := dir + "-target"
				mkdirOwned(t, target, fleet.UID, 0o700)
				if err := os.Symlink(target, dir); err != nil {
					t.Fatal(err)
				}
			},
			wantText: "symbolic link",
		},
		"writable by others": {
			prepare:  func(t *testing.T, dir string) { mkdirOwned(t, dir, fleet.UID, 0o777) },
			wantText: "mode 0777",
		},
		"a file": {
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(dir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(dir, fleet.UID, fleet.GID); err != nil {
					t.Fatal(err)
				}
			},
			wantText: "not a directory",
		},
		"ours and only readable by others is made private": {
			prepare: func(t *testing.T, dir string) { mkdirOwned(t, dir, fleet.UID, 0o755) },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := privateTestDir(t)
			tc.prepare(t, dir)
			c, p, ctx := detectOn(t, fleet, transport.Auth{Password: fleet.Password}, dir)
			_, _, err := c.Ensure(ctx, p, transport.Artifact{Name: "cscs-agent", Data: echoAgent})
			t.Logf("ensure error: %v", err)
			if tc.wantText == "" {
				if err != nil {
					t.Fatalf("ensure: %v", err)
				}
				assertOwnedPrivate(t, dir, fleet.UID, true)
				return
			}
			if transport.KindOf(err) != transport.Unsafe || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("ensure: %v (kind %v), want Unsafe mentioning %q", err, transport.KindOf(err), tc.wantText)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("refused directory was written to: %d entries", len(entries))
			}
		})
	}
}

func TestIntegrationDialFailures(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	h := fleet.Hosts[0]
	// The silent port tests the handshake deadline itself, so it gets a
	// short one; the other cases get one no loaded machine reaches, so an
	// sshd slow to refuse a password is not taken for a timeout.
	const silentTimeout, handshakeTimeout = 700 * time.Millisecond, 20 * time.Second
	silent := hostPort(t, sshdtest.StartNoSSH(t))
	closed := hostPort(t, sshdtest.ClosedAddr(t))
	otherKey := sshdtest.NewSigner(t).PublicKey()

	tests := map[string]struct {
		host      sshdtest.Host
		auth      transport.Auth
		known     string
		acceptNew bool
		wantKind  transport.Kind
		wantText  []string
	}{
		"wrong password": {
			host: h, auth: transport.Auth{Password: "wrong-" + fleet.Password}, known: sshdtest.KnownHostsLine(h),
			wantKind: transport.AuthFailed, wantText: []string{fleet.User},
		},
		"changed host key": {
			host: h, auth: transport.Auth{Password: fleet.Password},
			known:    knownhosts.Line([]string{knownhosts.Normalize(h.Addr())}, otherKey),
			wantKind: transport.HostKeyMismatch, wantText: []string{"known_hosts:1", ssh.FingerprintSHA256(h.HostKey), h.Addr()},
		},
		"unknown host": {
			host: h, auth: transport.Auth{Password: fleet.Password},
			wantKind: transport.HostKeyUnknown, wantText: []string{transport.AcceptNewHostKeysFlag, ssh.FingerprintSHA256(h.HostKey)},
		},
		"nothing listening": {
			host: closed, auth: transport.Auth{Password: "x"}, wantKind: transport.Unreachable,
		},
		"silent port": {
			host: silent, auth: transport.Auth{Password: "x"}, wantKind: transport.Timeout, wantText: []string{"no SSH handshake"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hk := hostKeys(t, tc.known, tc.acceptNew)
			target := transport.Target{Host: tc.host.IP, Port: tc.host.Port, User: fleet.User, Auth: tc.auth}
			start := time.Now()
			timeout := handshakeTimeout
			if tc.wantKind == transport.Timeout {
				timeout = silentTimeout
			}
			c, err := transport.Dial(testContext(t), target, transport.Options{HostKeys: hk, HandshakeTimeout: timeout})
			elapsed := time.Since(start)
			if err == nil {
				c.Close()
				t.Fatalf("dial succeeded, want %v", tc.wantKind)
			}
			t.Logf("dial error: %v", err)
			checkError(t, "dial", err, tc.wantKind, tc.wantText)
			if strings.Contains(err.Error(), fleet.Password) {
				t.Errorf("error reveals the password")
			}
			if tc.wantKind == transport.Timeout && (elapsed < timeout*9/10 || elapsed > timeout+5*time.Second) {
				t.Errorf("timed out after %v, want soon after the handshake timeout %v", elapsed, timeout)
			}
		})
	}
}

func TestIntegrationAcceptNewHostKey(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	h := fleet.Hosts[0]
	path := filepath.Join(t.TempDir(), "known_hosts")
	hk, err := transport.NewHostKeys(path, true)
	if err != nil {
		t.Fatal(err)
	}
	target := transport.Target{Host: h.IP, Port: h.Port, User: fleet.User, Auth: transport.Auth{Password: fleet.Password}}
	c, err := transport.Dial(testContext(t), target, transport.Options{HostKeys: hk})
	if err != nil {
		t.Fatalf("dial accepting new keys: %v", err)
	}
	c.Close()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(content) != sshdtest.KnownHostsLine(h)+"\n" {
		t.Fatalf("known_hosts = %q, want the host's line", content)
	}
	strict, err := transport.NewHostKeys(path, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err = transport.Dial(testContext(t), target, transport.Options{HostKeys: strict})
	if err != nil {
		t.Fatalf("dial with the recorded key: %v", err)
	}
	c.Close()
}

func TestIntegrationCancelStopsRun(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	c := dial(t, fleet, fleet.Hosts[0], transport.Auth{Password: fleet.Password}, transport.Options{RemoteDir: privateTestDir(t)})
	p, err := c.Detect(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	a := transport.Artifact{Name: "sleeper", Data: []byte("#!/bin/sh\nsleep 30\n")}
	remotePath, _, err := c.Ensure(testContext(t), p, a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, _, err = c.Run(ctx, p, remotePath, digestOf(a.Data), nil, 1024)
	if transport.KindOf(err) != transport.Cancelled {
		t.Fatalf("run: %v (kind %v), want Cancelled", err, transport.KindOf(err))
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("cancelled run returned after %v; the remote command sleeps 30 s", elapsed)
	}
	// The connection is closed: later calls fail at once.
	if _, err := c.Detect(testContext(t)); err == nil {
		t.Errorf("detect after cancellation succeeded")
	}
}

// dial connects to h trusting its host key, and closes the client when the
// test ends.
func dial(t *testing.T, fleet *sshdtest.Fleet, h sshdtest.Host, auth transport.Auth, o transport.Options) *transport.Client {
	t.Helper()
	o.HostKeys = hostKeys(t, sshdtest.KnownHostsLine(h), false)
	c, err := transport.Dial(testContext(t), transport.Target{Host: h.IP, Port: h.Port, User: fleet.User, Auth: auth}, o)
	if err != nil {
		t.Fatalf("dial %s: %v", h.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func hostKeys(t *testing.T, known string, acceptNew bool) *transport.HostKeys {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if known != "" {
		if err := os.WriteFile(path, []byte(known+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hk, err := transport.NewHostKeys(path, acceptNew)
	if err != nil {
		t.Fatal(err)
	}
	return hk
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// privateTestDir names a remote directory of its own under /tmp (it does
// not exist yet), so tests never touch the shared /tmp/cscs-<uid>.
func privateTestDir(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	dir := "/tmp/cscs-transport-test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.RemoveAll(dir + "-target")
	})
	return dir
}

func mkdirOwned(t *testing.T, dir string, uid, mode int) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
}

func assertOwnedPrivate(t *testing.T, path string, uid int, wantDir bool) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || fi.Mode().Perm() != 0o700 || fi.IsDir() != wantDir || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("%s: uid %d mode %v, want uid %d mode 0700 (directory %v)", path, st.Uid, fi.Mode(), uid, wantDir)
	}
}

// assertSFTPSessions checks that the fleet's first sshd (LogLevel
// VERBOSE) has logged want SFTP sessions so far.
func assertSFTPSessions(t *testing.T, fleet *sshdtest.Fleet, want int) {
	t.Helper()
	count := func() int {
		log, err := os.ReadFile(filepath.Join(fleet.Dir, "sshd_0.log"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(log), "Starting session: subsystem 'sftp'")
	}
	// sshd writes the line from the connection's process: give it a moment.
	for deadline := time.Now().Add(2 * time.Second); count() < want && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := count(); got != want {
		t.Errorf("sshd logged %d SFTP sessions, want %d", got, want)
	}
}

// checkError fails the test unless err, from step, is of kind and
// mentions every one of texts.
func checkError(t *testing.T, step string, err error, kind transport.Kind, texts []string) {
	t.Helper()
	if transport.KindOf(err) != kind {
		t.Fatalf("%s: %v (kind %v), want kind %v", step, err, transport.KindOf(err), kind)
	}
	for _, want := range texts {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func hostPort(t *testing.T, addr string) sshdtest.Host {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return sshdtest.Host{IP: host, Port: n}
}

// TestIntegrationEnsureShipsCompressed uploads the agent gzip-compressed;
// Run unpacks it with the host's gzip before checking it. What cannot be
// unpacked fails the checksum check like a missing file, and Upload then
// sends the plain bytes.
func TestIntegrationEnsureShipsCompressed(t *testing.T) {
	fleet := sshdtest.Start(t, sshdtest.Options{})
	gzipOf := func(data []byte) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write(data)
		_ = w.Close()
		return b.Bytes()
	}
	other := []byte("#!/bin/sh\necho not the agent\n")
	tests := []struct {
		name string
		gz   []byte
		// unpacks is false when Run must refuse what the host holds.
		unpacks bool
	}{
		{name: "unpacked by the host", gz: gzipOf(echoAgent), unpacks: true},
		{name: "other content: unpacked, refused", gz: gzipOf(other)},
		{name: "not gzip: refused", gz: []byte("not gzip at all")},
		{name: "truncated: refused", gz: gzipOf(echoAgent)[:20]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p, ctx, dir := detectedClient(t, fleet)
			calls := 0
			art := transport.Artifact{Name: "cscs-agent", Data: echoAgent, Gzip: func() ([]byte, error) { calls++; return tt.gz, nil }}
			module := transport.Artifact{Name: "users.sh", Data: []byte("#!/bin/sh\necho '{}'\n")}
			paths, uploaded, err := c.EnsureAll(ctx, p, []transport.Artifact{art, module})
			if err != nil || !slices.Equal(uploaded, []bool{true, true}) || calls != 1 {
				t.Fatalf("EnsureAll: uploaded %v, %v, Gzip called %d times; want both uploaded, the agent compressed", uploaded, err, calls)
			}
			if got, err := os.ReadFile(paths[0] + ".gz"); err != nil || !bytes.Equal(got, tt.gz) {
				t.Fatalf("%s.gz holds %d bytes, %v; want the compressed agent", paths[0], len(got), err)
			}
			if got, err := os.ReadFile(paths[1]); err != nil || !bytes.Equal(got, module.Data) {
				t.Fatalf("module after the compressed agent: %q, %v", got, err)
			}

			stdout, _, err := c.Run(ctx, p, paths[0], digestOf(echoAgent), []byte("request"), 1<<20)
			if !tt.unpacks {
				if !errors.Is(err, transport.ErrAgentChecksum) || len(stdout) != 0 {
					t.Fatalf("Run: %q, %v; want ErrAgentChecksum and nothing run", stdout, err)
				}
				if _, err := c.Upload(ctx, p, art); err != nil {
					t.Fatal(err)
				}
				stdout, _, err = c.Run(ctx, p, paths[0], digestOf(echoAgent), []byte("request"), 1<<20)
			}
			if err != nil || string(stdout) != "request" {
				t.Fatalf("Run: %q, %v; want the request echoed", stdout, err)
			}
			assertOwnedPrivate(t, paths[0], fleet.UID, false)
			if got, err := os.ReadFile(paths[0]); err != nil || !bytes.Equal(got, echoAgent) {
				t.Fatalf("%s holds %q, %v; want the agent", paths[0], got, err)
			}
			var names []string
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if want := []string{filepath.Base(paths[0]), filepath.Base(paths[0]) + ".ok", filepath.Base(paths[1])}; !slices.Equal(names, want) {
				t.Errorf("remote dir holds %q, want %q (no compressed or temporary files)", names, want)
			}
			// In place now: nothing compressed or sent again.
			if _, uploaded, err := c.EnsureAll(ctx, p, []transport.Artifact{art, module}); err != nil || uploaded[0] || uploaded[1] || calls != 1 {
				t.Errorf("second EnsureAll: uploaded %v, %v, Gzip called %d times; want nothing", uploaded, err, calls)
			}
		})
	}
}

// detectedClient connects to the fleet's first host with its key, a
// fresh private remote directory and the host's platform detected.
func detectedClient(t *testing.T, fleet *sshdtest.Fleet) (*transport.Client, transport.Platform, context.Context, string) {
	t.Helper()
	dir := privateTestDir(t)
	c, p, ctx := detectOn(t, fleet, transport.Auth{KeyFiles: []string{fleet.KeyFile}}, dir)
	return c, p, ctx, dir
}

// detectOn connects to the fleet's first host with auth and the remote
// directory dir, and detects the host's platform; ctx ends with the test.
func detectOn(t *testing.T, fleet *sshdtest.Fleet, auth transport.Auth, dir string) (c *transport.Client, p transport.Platform, ctx context.Context) {
	t.Helper()
	c = dial(t, fleet, fleet.Hosts[0], auth, transport.Options{RemoteDir: dir})
	ctx = testContext(t)
	p, err := c.Detect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c, p, ctx
}
