package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// maxRequestBytes caps what is read from stdin.
const maxRequestBytes = 1 << 20

// maxNonceBytes caps the nonce the agent echoes back.
const maxNonceBytes = 256

// request is a protocol.Request checked and turned into what the agent uses.
type request struct {
	protocol.Request
	recipient *age.X25519Recipient
	config    module.Config
	timeout   time.Duration
	// deadline bounds the whole run; 0 means none.
	deadline time.Duration
}

func badRequest(format string, args ...any) error {
	return exitError{code: protocol.ExitBadRequest, err: fmt.Errorf(format, args...)}
}

// readRequest reads and checks one request from r: one JSON value, which
// need not be followed by end of file (see protocol.Request.HoldsStdin).
// rest is what follows the request on r. Unless the request holds stdin,
// rest is read here to its end and must be blank. Unknown JSON fields are
// ignored so a newer core may add optional fields within a Version.
func readRequest(r io.Reader) (req request, rest io.Reader, err error) {
	in := &stdinReader{r: r, left: maxRequestBytes + 1}
	dec := json.NewDecoder(&bomSkipper{r: in})
	err = dec.Decode(&req.Request)
	var syntax *json.SyntaxError
	var mismatch *json.UnmarshalTypeError
	switch {
	case in.left <= 0 && (err != nil || dec.InputOffset() > maxRequestBytes):
		return request{}, nil, badRequest("request on stdin is larger than %d bytes; send one JSON request", maxRequestBytes)
	case in.err != nil:
		return request{}, nil, badRequest("read request from stdin: %w", in.err)
	case err == io.EOF:
		return request{}, nil, badRequest("no request on stdin; the core writes one JSON request there")
	case errors.As(err, &syntax):
		return request{}, nil, badRequest("request on stdin is not valid JSON (offset %d): %w", syntax.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return request{}, nil, badRequest("request on stdin is not valid JSON: it ends after %d bytes, inside the value", dec.InputOffset())
	case errors.As(err, &mismatch):
		return request{}, nil, badRequest("request on stdin does not match the protocol: %w", err)
	case err != nil:
		return request{}, nil, badRequest("request on stdin could not be decoded: %w", err)
	}
	rest = io.MultiReader(dec.Buffered(), r)
	if !req.HoldsStdin {
		if err := blankToEnd(io.MultiReader(dec.Buffered(), in)); err != nil {
			return request{}, nil, err
		}
	}
	if err := req.check(); err != nil {
		return request{}, nil, err
	}
	return req, rest, nil
}

// stdinReader reads at most left bytes of r and keeps the first error
// other than end of file.
type stdinReader struct {
	r    io.Reader
	left int64
	err  error
}

func (s *stdinReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// utf8BOM is the UTF-8 byte-order mark, which Windows tools and
// PowerShell pipelines may put before the request.
const utf8BOM = "\xEF\xBB\xBF"

// bomSkipper reads r without a leading UTF-8 byte-order mark. It reads
// no more of r than it needs to tell: a request without one is passed on
// from its first byte, so the request still need not end with end of file.
type bomSkipper struct {
	r       io.Reader
	checked bool
	head    []byte // what was read while checking, not yet returned
	err     error  // the error that ended the check, returned after head
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if !b.checked {
		b.checked = true
		var head [3]byte
		n := 0
		for n < len(head) && strings.HasPrefix(utf8BOM, string(head[:n])) && b.err == nil {
			var m int
			m, b.err = b.r.Read(head[n:])
			n += m
		}
		if string(head[:n]) != utf8BOM {
			b.head = append([]byte(nil), head[:n]...)
		}
	}
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.r.Read(p)
}

// blankToEnd reads r to its end and fails unless it held only white space.
func blankToEnd(r io.Reader) error {
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if len(bytes.TrimSpace(buf[:n])) > 0 {
			return badRequest("request on stdin is followed by more than white space; send one JSON request")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return badRequest("read request from stdin: %w", err)
		}
	}
}

// check checks the fields of a decoded request and fills in what the
// agent derives from them.
func (req *request) check() error {
	var err error
	if req.Version != protocol.Version {
		return badRequest("request speaks protocol version %d but this agent speaks %d; upload the agent that ships with this core", req.Version, protocol.Version)
	}
	if req.recipient, err = age.ParseX25519Recipient(req.Recipient); err != nil {
		// age's error repeats the input, which may be a pasted secret key:
		// say what is wrong without echoing it.
		if strings.HasPrefix(strings.ToUpper(req.Recipient), "AGE-SECRET-KEY-") {
			return badRequest("request recipient is not an age X25519 public key but a secret key; send the public key (age1...) and keep the secret on the core")
		}
		return badRequest("request recipient is not an age X25519 public key (age1..., %d characters given)", len(req.Recipient))
	}
	if req.Nonce == "" {
		return badRequest("request has no nonce; the core must send a fresh one per host and round")
	}
	if len(req.Nonce) > maxNonceBytes {
		return badRequest("request nonce is %d bytes, more than the %d allowed", len(req.Nonce), maxNonceBytes)
	}
	if req.CPUSampleMillis < 0 || req.ModuleTimeoutMillis < 0 || req.DeadlineMillis < 0 {
		return badRequest("request has a negative cpu_sample_ms, module_timeout_ms or deadline_ms; use 0 for the default")
	}
	req.config = module.Config{CPUSample: time.Duration(req.CPUSampleMillis) * time.Millisecond}
	req.timeout = time.Duration(req.ModuleTimeoutMillis) * time.Millisecond
	req.deadline = time.Duration(req.DeadlineMillis) * time.Millisecond
	return nil
}
