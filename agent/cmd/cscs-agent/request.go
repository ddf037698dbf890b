package main

import (
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
}

func badRequest(format string, args ...any) error {
	return exitError{code: protocol.ExitBadRequest, err: fmt.Errorf(format, args...)}
}

// readRequest reads and checks one request from r. Unknown JSON fields are
// ignored so a newer core may add optional fields within a Version.
func readRequest(r io.Reader) (request, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRequestBytes+1))
	if err != nil {
		return request{}, badRequest("read request from stdin: %w", err)
	}
	if len(data) > maxRequestBytes {
		return request{}, badRequest("request on stdin is larger than %d bytes; send one JSON request", maxRequestBytes)
	}
	if len(data) == 0 {
		return request{}, badRequest("no request on stdin; the core writes one JSON request there")
	}
	var req request
	if err := json.Unmarshal(data, &req.Request); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return request{}, badRequest("request on stdin is not valid JSON (offset %d): %w", syntax.Offset, err)
		}
		return request{}, badRequest("request on stdin does not match the protocol: %w", err)
	}
	if req.Version != protocol.Version {
		return request{}, badRequest("request speaks protocol version %d but this agent speaks %d; upload the agent that ships with this core", req.Version, protocol.Version)
	}
	if req.recipient, err = age.ParseX25519Recipient(req.Recipient); err != nil {
		// age's error repeats the input, which may be a pasted secret key:
		// say what is wrong without echoing it.
		if strings.HasPrefix(strings.ToUpper(req.Recipient), "AGE-SECRET-KEY-") {
			return request{}, badRequest("request recipient is not an age X25519 public key but a secret key; send the public key (age1...) and keep the secret on the core")
		}
		return request{}, badRequest("request recipient is not an age X25519 public key (age1..., %d characters given)", len(req.Recipient))
	}
	if req.Nonce == "" {
		return request{}, badRequest("request has no nonce; the core must send a fresh one per host and round")
	}
	if len(req.Nonce) > maxNonceBytes {
		return request{}, badRequest("request nonce is %d bytes, more than the %d allowed", len(req.Nonce), maxNonceBytes)
	}
	if req.CPUSampleMillis < 0 || req.ModuleTimeoutMillis < 0 {
		return request{}, badRequest("request has a negative cpu_sample_ms or module_timeout_ms; use 0 for the default")
	}
	req.config = module.Config{CPUSample: time.Duration(req.CPUSampleMillis) * time.Millisecond}
	req.timeout = time.Duration(req.ModuleTimeoutMillis) * time.Millisecond
	return req, nil
}
