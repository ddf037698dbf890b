package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

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
func (c *Client) exec(ctx context.Context, step, command string, stdin []byte, maxOut int) (execResult, error) {
	stop := c.watch(ctx)
	defer stop()
	s, err := c.ssh.NewSession()
	if err != nil {
		return execResult{}, c.failure(ctx, step, fmt.Errorf("open a session on %s: %w", c.addr, err))
	}
	defer s.Close()
	var once sync.Once
	stdout := &cappedBuffer{limit: maxOut, onOverflow: func() { once.Do(func() { s.Close() }) }}
	stderr := &cappedBuffer{limit: maxStderr}
	s.Stdout, s.Stderr = stdout, stderr
	// stdin goes straight to the channel: Session.Stdin would copy it
	// through a pipe with a 32 KiB buffer and one more goroutine per
	// command.
	in, err := s.StdinPipe()
	if err != nil {
		return execResult{}, c.failure(ctx, step, fmt.Errorf("open a session on %s: %w", c.addr, err))
	}
	if err = s.Start(command); err == nil {
		go func() {
			// A command that exits without reading it all fails the write
			// (the channel is closed); its exit status tells what happened.
			_, _ = in.Write(stdin)
			_ = in.Close()
		}()
		err = s.Wait()
	}
	res := execResult{stdout: stdout.buf.Bytes(), stderr: stderr.buf.Bytes()}
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

// cappedBuffer keeps the first limit bytes written to it. As an
// io.ReaderFrom it reads straight into its buffer, so the copies of a
// session's stdout and stderr allocate no 32 KiB buffers of their own.
type cappedBuffer struct {
	buf        bytes.Buffer
	limit      int
	overflow   bool
	onOverflow func()
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
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
		scratch []byte // for what is read beyond the limit, then dropped
	)
	for {
		if b.buf.Available() < cappedReadSize/2 && b.buf.Len() < b.limit {
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
