package sshfleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// pipeGrace is how long a command's output is still read after it exited
// while a background child keeps the pipes open.
const pipeGrace = 2 * time.Second

// exitStatusFailed is reported when the shell could not be started.
const exitStatusFailed = 127

// session serves one session channel: at most one exec or sftp subsystem.
type session struct {
	fleet *Fleet
	host  *hostServer
	conn  *ssh.ServerConn
	ch    ssh.Channel
}

// serve answers channel requests until the channel is closed by both
// sides or the connection ends; then it stops whatever was started.
func (s *session) serve(reqs <-chan *ssh.Request) {
	ctx, cancel := context.WithCancel(s.fleet.ctx)
	var work sync.WaitGroup
	defer func() {
		cancel()
		work.Wait()
		s.ch.Close()
	}()
	started := false
	for req := range reqs {
		var run func(context.Context, *sync.WaitGroup) exitInfo
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if !started && ssh.Unmarshal(req.Payload, &p) == nil {
				run = func(ctx context.Context, work *sync.WaitGroup) exitInfo { return s.runCommand(ctx, work, p.Command) }
			}
		case "subsystem":
			var p struct{ Name string }
			if !started && ssh.Unmarshal(req.Payload, &p) == nil && p.Name == "sftp" {
				run = s.runSFTP
			}
		}
		// Everything else (env, pty-req, shell, x11-req, signal,
		// window-change, ...) is refused.
		if req.WantReply {
			req.Reply(run != nil, nil)
		}
		if run == nil {
			continue
		}
		started = true
		work.Add(1)
		go func() {
			defer work.Done()
			exit := run(ctx, &work)
			s.finish(exit)
		}()
	}
}

// exitInfo is how a command ended: an exit status, or a signal name.
type exitInfo struct {
	status uint32
	signal string // SSH signal name without "SIG"; empty for a status
}

// finish sends EOF, the exit status and closes the channel so the client
// sees the end of the session.
func (s *session) finish(exit exitInfo) {
	s.ch.CloseWrite()
	if exit.signal != "" {
		s.ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Error      string
			Lang       string
		}{Signal: exit.signal}))
	} else {
		s.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{exit.status}))
	}
	s.ch.Close()
}

// acquire waits for a command slot; it reports false if ctx ended first.
func (s *session) acquire(ctx context.Context) bool {
	select {
	case s.fleet.cmdSlots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *session) release() { <-s.fleet.cmdSlots }

// runCommand runs command through the fleet's shell with the channel as
// stdin, stdout and stderr.
func (s *session) runCommand(ctx context.Context, work *sync.WaitGroup, command string) exitInfo {
	if !s.acquire(ctx) {
		return exitInfo{status: exitStatusFailed}
	}
	defer s.release()

	cmd := shellCommand(ctx, s.fleet.opts.Shell, command)
	cmd.Dir = s.fleet.workDir
	cmd.Env = s.environ()
	cmd.Stdout = s.ch
	cmd.Stderr = s.ch.Stderr()
	cmd.WaitDelay = pipeGrace
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(s.ch.Stderr(), "sshfleet: cannot start %s: %v\n", s.fleet.opts.Shell, err)
		return exitInfo{status: exitStatusFailed}
	}
	// The copy ends at the client's EOF (CloseWrite), when the command
	// stops reading, or when the channel closes.
	work.Add(1)
	go func() {
		defer work.Done()
		io.Copy(stdin, s.ch)
		stdin.Close()
	}()
	err = cmd.Wait()
	killLeftovers(cmd)
	if cmd.ProcessState == nil {
		fmt.Fprintf(s.ch.Stderr(), "sshfleet: command failed: %v\n", err)
		return exitInfo{status: exitStatusFailed}
	}
	if sig, ok := exitSignal(cmd.ProcessState); ok {
		return exitInfo{signal: sig}
	}
	return exitInfo{status: uint32(cmd.ProcessState.ExitCode())}
}

// runSFTP serves the sftp subsystem on the channel until the client ends it.
func (s *session) runSFTP(ctx context.Context, _ *sync.WaitGroup) exitInfo {
	if !s.acquire(ctx) {
		return exitInfo{status: 1}
	}
	defer s.release()
	srv, err := sftp.NewServer(s.ch, sftp.WithServerWorkingDirectory(s.fleet.workDir))
	if err != nil {
		return exitInfo{status: 1}
	}
	err = srv.Serve()
	srv.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return exitInfo{status: 1}
	}
	return exitInfo{}
}

// environ is the command environment: this process's, plus the SSH
// connection variables and, with TempRoot, the host's private temp dir.
func (s *session) environ() []string {
	env := os.Environ()
	local := addrPort(s.conn.LocalAddr())
	remote := addrPort(s.conn.RemoteAddr())
	env = append(env,
		"SSH_CONNECTION="+remote.Addr().String()+" "+strconv.Itoa(int(remote.Port()))+" "+
			local.Addr().String()+" "+strconv.Itoa(int(local.Port())),
		"SSH_CLIENT="+remote.Addr().String()+" "+strconv.Itoa(int(remote.Port()))+" "+strconv.Itoa(int(local.Port())),
	)
	if s.host.tempDir != "" {
		for _, name := range tempDirVars() {
			env = append(env, name+"="+s.host.tempDir)
		}
	}
	return env
}
