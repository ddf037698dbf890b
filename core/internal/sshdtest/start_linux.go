package sshdtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// maxHosts bounds a fleet: hosts take 250 addresses per third octet,
// starting at a random octet in [firstOctet, firstOctet+octetSpread).
const (
	maxHosts     = 10000
	hostsPerNet  = 250
	firstOctet   = 100
	octetSpread  = 100
	startRetries = 5
)

// toolPaths are the absolute paths of the programs Start runs.
type toolPaths struct {
	sshd, useradd, chpasswd string
}

// Start runs a fleet of opts.Hosts real sshd hosts and stops it when the
// test or benchmark ends. It skips the test when not root or when sshd,
// useradd or chpasswd is missing, and fails it instead under CI=true.
func Start(tb testing.TB, opts Options) *Fleet {
	tb.Helper()
	tools, reason := findTools()
	if reason != "" {
		skipOrFail(tb, reason)
	}
	n := opts.Hosts
	if n <= 0 {
		n = 1
	}
	if n > maxHosts {
		tb.Fatalf("sshdtest: %d hosts asked, at most %d supported", n, maxHosts)
	}
	level, err := logLevel(opts.LogLevel)
	if err != nil {
		tb.Fatalf("sshdtest: %v", err)
	}

	usr, err := setUpUser(tools)
	if err != nil {
		tb.Fatalf("sshdtest: set up user %s: %v", UserName, err)
	}
	tb.Cleanup(usr.release)

	dir, err := os.MkdirTemp("", "cscs-sshdtest-")
	if err != nil {
		tb.Fatalf("sshdtest: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// sshd reads authorized_keys as the user: the directory must be
	// traversable and the file readable by it.
	if err := os.Chmod(dir, 0o711); err != nil {
		tb.Fatalf("sshdtest: %v", err)
	}
	keyFile := filepath.Join(dir, "client_ed25519")
	signer, err := writeEd25519Key(keyFile, "sshdtest client")
	if err != nil {
		tb.Fatalf("sshdtest: client key: %v", err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		tb.Fatalf("sshdtest: %v", err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		tb.Fatalf("sshdtest: privilege separation directory: %v", err)
	}

	base, err := rand.Int(rand.Reader, big.NewInt(octetSpread))
	if err != nil {
		tb.Fatalf("sshdtest: %v", err)
	}
	octet := firstOctet + int(base.Int64())
	fleet := &Fleet{
		User: UserName, UID: usr.uid, GID: usr.gid, Password: usr.password,
		KeyFile: keyFile, Signer: signer, Dir: dir,
	}
	cfg := sshdConfig{
		level:          level,
		extra:          opts.ExtraConfig,
		authorizedKeys: authorized,
		noPenalties:    hasPerSourcePenalties(tools.sshd),
	}
	for first, group := 0, 0; first < n; first, group = first+maxListenAddresses, group+1 {
		var ips []string
		for i := first; i < n && i < first+maxListenAddresses; i++ {
			ips = append(ips, fmt.Sprintf("127.0.%d.%d", octet+i/hostsPerNet, 1+i%hostsPerNet))
		}
		proc := startGroup(tb, tools.sshd, dir, group, ips, cfg)
		for _, ip := range ips {
			fleet.Hosts = append(fleet.Hosts, Host{IP: ip, Port: proc.port, HostKey: proc.hostKey})
		}
	}
	return fleet
}

// findTools locates the programs Start needs, or says why it cannot run.
func findTools() (toolPaths, string) {
	if uid := os.Geteuid(); uid != 0 {
		return toolPaths{}, fmt.Sprintf("running as uid %d: a real sshd fleet needs root", uid)
	}
	var t toolPaths
	for _, tool := range []struct {
		name string
		path *string
	}{{"sshd", &t.sshd}, {"useradd", &t.useradd}, {"chpasswd", &t.chpasswd}} {
		p, err := exec.LookPath(tool.name)
		if err != nil || !filepath.IsAbs(p) {
			p = "/usr/sbin/" + tool.name
			if _, err := os.Stat(p); err != nil {
				return toolPaths{}, tool.name + " not found (install openssh-server and passwd)"
			}
		}
		*tool.path = p
	}
	return t, ""
}

func logLevel(level string) (string, error) {
	switch l := strings.ToUpper(level); l {
	case "":
		return "INFO", nil
	case "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3":
		return l, nil
	default:
		return "", fmt.Errorf("LogLevel %q: use INFO or a more verbose level, readiness is read from the log", level)
	}
}

// hasPerSourcePenalties tells whether sshd is OpenSSH 9.8 or later, whose
// PerSourcePenalties would lock tests out after deliberate auth failures.
func hasPerSourcePenalties(sshd string) bool {
	out, _ := exec.Command(sshd, "-V").CombinedOutput() // sshd -V exits non-zero
	s := string(out)
	i := strings.Index(s, "OpenSSH_")
	if i < 0 {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(s[i+len("OpenSSH_"):], "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 9 || (major == 9 && minor >= 8)
}

// startGroup starts one sshd serving ips on one port, retrying with another
// port when a concurrent fleet took it first.
func startGroup(tb testing.TB, sshd, dir string, group int, ips []string, cfg sshdConfig) *sshdProcess {
	tb.Helper()
	hostKeyFile := filepath.Join(dir, fmt.Sprintf("host_%d_ed25519", group))
	hostKey, err := writeEd25519Key(hostKeyFile, "sshdtest host")
	if err != nil {
		tb.Fatalf("sshdtest: host key: %v", err)
	}
	cfg.hostKeyFile = hostKeyFile
	cfg.ips = ips
	configFile := filepath.Join(dir, fmt.Sprintf("sshd_%d.conf", group))
	logFile := filepath.Join(dir, fmt.Sprintf("sshd_%d.log", group))
	for attempt := 1; ; attempt++ {
		port, err := freePort(ips)
		if err != nil {
			tb.Fatalf("sshdtest: %v", err)
		}
		cfg.port = port
		if err := os.WriteFile(configFile, []byte(cfg.render()), 0o644); err != nil {
			tb.Fatalf("sshdtest: %v", err)
		}
		proc, err := launch(sshd, configFile, logFile)
		if err != nil {
			tb.Fatalf("sshdtest: %v", err)
		}
		proc.port, proc.hostKey = port, hostKey.PublicKey()
		err = proc.waitReady(ips)
		if err == nil {
			tb.Cleanup(func() {
				proc.stop()
				if tb.Failed() {
					tb.Logf("sshdtest: sshd for %s..%s, log tail:\n%s", ips[0], ips[len(ips)-1], proc.logTail(8<<10))
				}
			})
			return proc
		}
		proc.stop()
		if !errors.Is(err, errPortTaken) || attempt == startRetries {
			tb.Fatalf("sshdtest: start sshd on %s..%s port %d: %v\nlog:\n%s",
				ips[0], ips[len(ips)-1], port, err, proc.logTail(8<<10))
		}
	}
}

// sshdConfig renders the sshd_config of one process.
type sshdConfig struct {
	ips            []string
	port           int
	hostKeyFile    string
	authorizedKeys string
	level          string
	extra          []string
	noPenalties    bool
}

func (c sshdConfig) render() string {
	var b strings.Builder
	b.WriteString("# generated by sshdtest\n")
	for _, line := range c.extra {
		b.WriteString(line + "\n")
	}
	for _, ip := range c.ips {
		fmt.Fprintf(&b, "ListenAddress %s:%d\n", ip, c.port)
	}
	fmt.Fprintf(&b, "HostKey %s\n", c.hostKeyFile)
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", c.authorizedKeys)
	fmt.Fprintf(&b, "LogLevel %s\n", c.level)
	fmt.Fprintf(&b, "AllowUsers %s\n", UserName)
	if c.noPenalties {
		b.WriteString("PerSourcePenalties no\n")
	}
	b.WriteString(strings.Join([]string{
		"PidFile none",
		"UsePAM no",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin no",
		"StrictModes no",
		"MaxStartups 1000",
		"MaxSessions 100",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"AllowTcpForwarding no",
		"AllowAgentForwarding no",
		"Subsystem sftp internal-sftp",
	}, "\n"))
	b.WriteString("\n")
	return b.String()
}

// procAttr puts sshd and its per-connection children in their own process
// group, so cleanup can end exactly them, and ends sshd if the test dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
