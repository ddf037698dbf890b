package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	noRoute := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}
	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}
	readReset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	tests := map[string]struct {
		err  error
		want Kind
	}{
		"refused":          {err: fmt.Errorf("connect: %w", refused), want: Unreachable},
		"no route":         {err: noRoute, want: Unreachable},
		"unknown name":     {err: &net.DNSError{Err: "no such host", Name: "nohost.invalid", IsNotFound: true}, want: Unreachable},
		"dial timeout":     {err: dialTimeout, want: Timeout},
		"deadline on conn": {err: fmt.Errorf("ssh: handshake failed: %w", os.ErrDeadlineExceeded), want: Timeout},
		"context deadline": {err: context.DeadlineExceeded, want: Timeout},
		"context canceled": {err: context.Canceled, want: Cancelled},
		"auth": {
			err:  errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none password], no supported methods remain"),
			want: AuthFailed,
		},
		"algorithms": {
			err:  fmt.Errorf("ssh: handshake failed: %w", &ssh.AlgorithmNegotiationError{What: "client to server cipher"}),
			want: Protocol,
		},
		"handshake eof":    {err: errors.New("ssh: handshake failed: EOF"), want: Protocol},
		"connection reset": {err: readReset, want: Other},
		"ours is kept":     {err: fmt.Errorf("ssh: handshake failed: %w", &Error{Kind: HostKeyUnknown, Step: "handshake", Err: errors.New("x")}), want: HostKeyUnknown},
		"anything else":    {err: errors.New("sftp: permission denied"), want: Other},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := classify(context.Background(), "dial", tc.err)
			if got := KindOf(err); got != tc.want {
				t.Fatalf("KindOf(classify(%v)) = %v, want %v", tc.err, got, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Step == "" {
				t.Fatalf("classify returned %T without a step", err)
			}
		})
	}
}

func TestClassifyPrefersTheContext(t *testing.T) {
	closedConn := fmt.Errorf("read: %w", net.ErrClosed)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	tests := map[string]struct {
		ctx  context.Context
		want Kind
	}{
		"cancelled": {ctx: cancelled, want: Cancelled},
		"expired":   {ctx: expired, want: Timeout},
		"live":      {ctx: context.Background(), want: Other},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := KindOf(classify(tc.ctx, "run", closedConn)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKindOfAndString(t *testing.T) {
	if got := KindOf(nil); got != Other {
		t.Errorf("KindOf(nil) = %v", got)
	}
	wrapped := fmt.Errorf("host 1: %w", &Error{Kind: AuthFailed, Step: "handshake", Err: errors.New("no")})
	if got := KindOf(wrapped); got != AuthFailed {
		t.Errorf("KindOf(wrapped) = %v", got)
	}
	seen := map[string]Kind{}
	for k := Other; k <= Config; k++ {
		s := k.String()
		if prev, dup := seen[s]; dup {
			t.Errorf("kinds %d and %d share the name %q", prev, k, s)
		}
		seen[s] = k
	}
	if Kind(99).String() != "kind(99)" {
		t.Errorf("unknown kind renders as %q", Kind(99).String())
	}
	e := &Error{Kind: Agent, Step: "run", Err: ErrAgentChecksum}
	if e.Error() != "run: agent on host failed its checksum" || !errors.Is(e, ErrAgentChecksum) {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestCappedBuffer(t *testing.T) {
	overflows := 0
	b := &cappedBuffer{limit: 5, onOverflow: func() { overflows++ }}
	for _, chunk := range []string{"abc", "defg", "hij"} {
		if n, err := b.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if b.buf.String() != "abcde" || !b.overflow || overflows != 1 {
		t.Errorf("kept %q, overflow %v, callbacks %d", b.buf.String(), b.overflow, overflows)
	}
}

func TestCappedBufferReadFrom(t *testing.T) {
	tests := map[string]struct {
		input     string
		limit     int
		wantKept  string
		wantCalls int
	}{
		"under the limit": {input: "hello", limit: 10, wantKept: "hello"},
		"at the limit":    {input: "hello", limit: 5, wantKept: "hello"},
		"over the limit":  {input: "hello, world", limit: 5, wantKept: "hello", wantCalls: 1},
		"long, over":      {input: strings.Repeat("x", 100_000), limit: 70_000, wantKept: strings.Repeat("x", 70_000), wantCalls: 1},
		"long, under":     {input: strings.Repeat("y", 50_000), limit: 1 << 20, wantKept: strings.Repeat("y", 50_000)},
		"nothing to read": {input: "", limit: 5, wantKept: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			calls := 0
			b := &cappedBuffer{limit: tc.limit, onOverflow: func() { calls++ }}
			// iotest.OneByteReader would be slow for the long inputs: read
			// in odd-sized pieces instead.
			n, err := io.Copy(b, &pieceReader{s: tc.input, piece: 777})
			if err != nil || n != int64(len(tc.input)) {
				t.Fatalf("Copy = %d, %v; want %d, nil", n, err, len(tc.input))
			}
			if b.buf.String() != tc.wantKept || calls != tc.wantCalls || b.overflow != (tc.wantCalls > 0) {
				t.Errorf("kept %d bytes, overflow callbacks %d; want %d bytes, %d", b.buf.Len(), calls, len(tc.wantKept), tc.wantCalls)
			}
		})
	}
}

// pieceReader returns s at most piece bytes per Read.
type pieceReader struct {
	s     string
	piece int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.piece)], r.s)
	r.s = r.s[n:]
	return n, nil
}

// errWanted checks err against a table case's wantErr: when wantErr is
// set, err must contain it, and true says the case is done; otherwise err
// must be nil.
func errWanted(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one containing %q", err, wantErr)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// checkResult checks a table case's result: err against wantErr as
// errWanted does and, when no error is wanted, got against want.
func checkResult[T comparable](t *testing.T, got T, err error, want T, wantErr string) {
	t.Helper()
	if errWanted(t, err, wantErr) {
		return
	}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestDialErrorSaysItOnce: a refused connection names the address once,
// gives the system's reason and what to check, and still classifies as
// Unreachable.
func TestDialErrorSaysItOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	if err == nil {
		t.Skip("the closed port accepted a connection")
	}
	got := classify(context.Background(), "dial", &dialError{addr: addr, err: err})
	_, port, _ := net.SplitHostPort(addr)
	want := "dial: connect to " + addr + ": connection refused; is sshd running there, on port " + port + "?"
	if got.Error() != want || KindOf(got) != Unreachable {
		t.Errorf("error %q (kind %v), want %q (unreachable)", got, KindOf(got), want)
	}
	if strings.Count(got.Error(), addr) != 1 {
		t.Errorf("the address is repeated: %q", got)
	}
}
