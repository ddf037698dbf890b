package sshdtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	readyTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	pollInterval = 20 * time.Millisecond
)

// errPortTaken reports that another process bound the chosen port first.
var errPortTaken = errors.New("port taken by another process")

// sshdProcess is one running `sshd -D -e`.
type sshdProcess struct {
	cmd     *exec.Cmd
	logFile string
	exited  chan struct{}
	waitErr error

	port    int
	hostKey ssh.PublicKey
}

func launch(sshd, configFile, logFile string) (*sshdProcess, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sshd log: %w", err)
	}
	defer log.Close() // the child keeps its own descriptor
	cmd := exec.Command(sshd, "-D", "-e", "-f", configFile)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", sshd, err)
	}
	p := &sshdProcess{cmd: cmd, logFile: logFile, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitReady waits until sshd logs that it listens on every address, then
// checks that each address answers with an SSH banner.
func (p *sshdProcess) waitReady(ips []string) error {
	port := strconv.Itoa(p.port)
	deadline := time.Now().Add(readyTimeout)
	for {
		log, _ := os.ReadFile(p.logFile)
		if bytes.Contains(log, []byte("Cannot bind any address")) ||
			bytes.Contains(log, []byte("Bind to port "+port+" on ")) {
			return errPortTaken
		}
		listening := 0
		for _, ip := range ips {
			if bytes.Contains(log, []byte("Server listening on "+ip+" port "+port+".")) {
				listening++
			}
		}
		if listening == len(ips) {
			break
		}
		select {
		case <-p.exited:
			return fmt.Errorf("sshd exited: %v", p.waitErr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd not listening on all %d addresses after %v", len(ips), readyTimeout)
		}
	}
	for _, ip := range ips {
		if err := expectBanner(net.JoinHostPort(ip, port)); err != nil {
			return err
		}
	}
	return nil
}

func expectBanner(addr string) error {
	c, err := net.DialTimeout("tcp", addr, readyTimeout)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(readyTimeout)); err != nil {
		return err
	}
	banner := make([]byte, len("SSH-2.0-"))
	if _, err := io.ReadFull(c, banner); err != nil {
		return fmt.Errorf("read banner from %s: %w", addr, err)
	}
	if string(banner) != "SSH-2.0-" {
		return fmt.Errorf("%s answered %q, not an SSH banner", addr, banner)
	}
	return nil
}

// stop ends sshd and its per-connection children (its process group).
func (p *sshdProcess) stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
}

func (p *sshdProcess) logTail(max int) string {
	log, err := os.ReadFile(p.logFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(log) > max {
		log = append([]byte("..."), log[len(log)-max:]...)
	}
	return string(log)
}

// freePort finds a port that is free on every address right now.
func freePort(ips []string) (int, error) {
	var lastErr error
	for range 20 {
		first, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return 0, fmt.Errorf("listen on %s: %w", ips[0], err)
		}
		port := first.Addr().(*net.TCPAddr).Port
		held := []net.Listener{first}
		lastErr = nil
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				lastErr = err
				break
			}
			held = append(held, ln)
		}
		for _, ln := range held {
			ln.Close()
		}
		if lastErr == nil {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port free on all of %s..%s: %w", ips[0], ips[len(ips)-1], lastErr)
}
