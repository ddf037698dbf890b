package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// maxStderr bounds the stderr kept from a remote command; the rest is
// dropped.
const maxStderr = 64 << 10

// execResult is what a remote command left.
type execResult struct {
	stdout, stderr []byte
	// status is the exit status; signal is set when a signal ended it.
	status int
	signal string
}

// exec runs command in a new session with stdin, keeping at most maxOut
// bytes of stdout: more ends the session with a Protocol error. A non-zero
// exit is not an error; it is in the result.
//
// With holdStdin, the session's stdin stays open after the bytes of stdin
// until the command's first byte of stdout (or its end): a command that reads past
// stdin (the agent, see protocol.Request.HoldsStdin) sees end of file
// only when the core is gone. Without it, stdin is closed once written.
//
// When ctx ends first, the command is asked to stop (SIGTERM through the
// session, then end of file on its stdin) and the connection is closed;
// when sshd closes the session, the agent sees end of file on its held
// stdin. The call then fails with ctx's Timeout or Cancelled error unless
// the command had succeeded, whether it died of the signal or exited
// when told.
func (c *Client) exec(ctx context.Context, step, command string, stdin []byte, holdStdin bool, maxOut int) (execResult, error) {
	stop := c.watch(ctx)
	s, err := c.ssh.NewSession()
	if err != nil {
		stop()
		return execResult{}, c.failure(ctx, step, fmt.Errorf("open a session on %s: %w", c.addr, err))
	}
	defer s.Close()
	// stdin goes straight to the channel: Session.Stdin would copy it
	// through a pipe with a 32 KiB buffer and one more goroutine per
	// command.
	in, err := s.StdinPipe()
	if err != nil {
		stop()
		return execResult{}, c.failure(ctx, step, fmt.Errorf("open a session on %s: %w", c.addr, err))
	}
	// The channel's Write and Close must not overlap: mu orders them.
	var (
		mu     sync.Mutex
		closed bool
	)
	endStdin := func() {
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			closed = true
			_ = in.Close()
		}
	}
	stop()
	stopSession := c.watchSession(ctx, s, endStdin)
	defer stopSession()
	var once sync.Once
	stdout := &cappedBuffer{limit: maxOut, onOverflow: func() { once.Do(func() { s.Close() }) }}
	if holdStdin {
		// The agent writes its report once it is done with stdin.
		stdout.onData = func() { go endStdin() }
	}
	stderr := &cappedBuffer{limit: maxStderr}
	s.Stdout, s.Stderr = stdout, stderr
	if err = s.Start(command); err == nil {
		go func() {
			mu.Lock()
			defer mu.Unlock()
			if closed {
				return
			}
			// A command that exits without reading it all fails the write
			// (the channel is closed); its exit status tells what happened.
			_, _ = in.Write(stdin)
			if !holdStdin {
				closed = true
				_ = in.Close()
			}
		}()
		err = s.Wait()
	}
	res := execResult{stdout: stdout.buf.Bytes(), stderr: stderr.buf.Bytes()}
	if !stopSession() && err != nil {
		// ctx ended and the command was told to stop: however it ended
		// (killed by the signal, or exiting as the agent does when told),
		// the call failed because of ctx.
		return res, c.failure(ctx, step, fmt.Errorf("run a command on %s: stopped it: %w", c.addr, context.Cause(ctx)))
	}
	if stdout.overflow {
		return res, &Error{Kind: Protocol, Step: step, Err: fmt.Errorf("%s wrote more than %d bytes of output: stopped it", c.addr, maxOut)}
	}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.status, res.signal = exitErr.ExitStatus(), exitErr.Signal()
	default:
		return res, c.failure(ctx, step, fmt.Errorf("run a command on %s: %w", c.addr, err))
	}
	return res, nil
}

// stopGrace is how long a session whose context ended may take to send
// its stop signal and end of file before the connection is closed: the
// writes do not wait for the host, only for a full send buffer.
const stopGrace = 250 * time.Millisecond

// watchSession arranges that, when ctx ends before the returned function
// is called, the session's command is sent SIGTERM (OpenSSH's sshd
// signals the session's process group; others may ignore it) and end of
// file on its stdin, and the connection is closed as by watch.
func (c *Client) watchSession(ctx context.Context, s *ssh.Session, endStdin func()) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		sent := make(chan struct{})
		go func() {
			_ = s.Signal(ssh.SIGTERM)
			endStdin()
			close(sent)
		}()
		select {
		case <-sent:
		case <-time.After(stopGrace):
		}
		c.ssh.Close()
	})
}

// cappedBuffer keeps the first limit bytes written to it. As an
// io.ReaderFrom it reads straight into its buffer, so the copies of a
// session's stdout and stderr allocate no 32 KiB buffers of their own.
type cappedBuffer struct {
	buf        bytes.Buffer
	limit      int
	overflow   bool
	onOverflow func()
	// onData, when set, is called at the first non-empty write.
	onData func()
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.onData != nil && len(p) > 0 {
		b.onData()
		b.onData = nil
	}
	room := b.limit - b.buf.Len()
	if len(p) <= room {
		return b.buf.Write(p)
	}
	b.buf.Write(p[:max(room, 0)])
	if !b.overflow {
		b.overflow = true
		if b.onOverflow != nil {
			b.onOverflow()
		}
	}
	return len(p), nil
}

// cappedReadSize is how much room ReadFrom makes for each read.
const cappedReadSize = 4 << 10

// ReadFrom reads r to its end, keeping what Write would.
func (b *cappedBuffer) ReadFrom(r io.Reader) (int64, error) {
	var (
		total   int64
		scratch []byte // for the first read, and for what is read beyond the limit (then dropped)
	)
	for {
		// The buffer grows once data came: a session's stderr is mostly
		// empty, and a round of 10,000 hosts would make 4 KiB for each.
		if b.buf.Available() < cappedReadSize/2 && b.buf.Len() < b.limit && total > 0 {
			b.buf.Grow(cappedReadSize)
		}
		room := b.buf.AvailableBuffer()
		if cap(room) < cappedReadSize/2 {
			if scratch == nil {
				scratch = make([]byte, cappedReadSize/2)
			}
			room = scratch[:0]
		}
		n, err := r.Read(room[:cap(room)])
		if n > 0 {
			total += int64(n)
			b.Write(room[:n])
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
