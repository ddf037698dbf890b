package agentmod

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Handler is the work of a Go module: measure, and return what was
// measured. ctx ends shortly before the agent's deadline (see Run).
type Handler func(ctx context.Context, req Request) (Result, error)

// Exit statuses of a module served by Run. The agent treats every
// non-zero status alike; the distinction helps a person running the
// module by hand.
const (
	// ExitOK: a valid Result was written to stdout.
	ExitOK = 0
	// ExitFailed: the handler failed or returned an invalid Result.
	ExitFailed = 1
	// ExitBadRequest: stdin held no usable Request.
	ExitBadRequest = 2
	// ExitWrite: the Result could not be encoded or written.
	ExitWrite = 3
)

// maxRequestBytes caps what Run reads from stdin; the agent's own request
// (which carries the module's config) is capped at 1 MiB.
const maxRequestBytes = 1 << 20

// maxDeadlineMargin caps how much earlier than the agent's deadline the
// handler's context ends.
const maxDeadlineMargin = 500 * time.Millisecond

// Run makes the calling program an external module and never returns. It
// reads one Request from stdin, calls h with a context that ends a tenth
// of Request.DeadlineMS (at most 500 ms) before the agent's deadline, so
// a handler that watches ctx has time to answer, checks the Result with
// Result.Validate, writes it as JSON to stdout and exits 0. On any failure
// it writes one line to stderr, which the agent reports, and exits with
// ExitFailed, ExitBadRequest or ExitWrite.
//
// A request without a deadline (a person testing the module by hand)
// gives a context without one.
func Run(h Handler) {
	os.Exit(run(context.Background(), os.Stdin, os.Stdout, os.Stderr, h))
}

// run is Run without the process: it returns the exit status.
func run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, h Handler) int {
	fail := func(code int, source string, err error) int {
		if source == "" {
			source = "module"
		}
		fmt.Fprintf(stderr, "%s: %v\n", source, err)
		return code
	}
	req, err := readRequest(stdin)
	if err != nil {
		return fail(ExitBadRequest, "", err)
	}
	if req.DeadlineMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, handlerTimeout(req.DeadlineMS))
		defer cancel()
	}
	res, err := h(ctx, req)
	if err != nil {
		return fail(ExitFailed, req.Source, err)
	}
	if err := res.Validate(req.Source); err != nil {
		return fail(ExitFailed, req.Source, fmt.Errorf("invalid result: %w", err))
	}
	out, err := json.Marshal(res)
	if err != nil {
		return fail(ExitWrite, req.Source, fmt.Errorf("encode result: %w", err))
	}
	if len(out)+1 > MaxResultBytes {
		return fail(ExitWrite, req.Source, fmt.Errorf("result is %d bytes, more than the %d the agent accepts; report less per run", len(out), MaxResultBytes))
	}
	if _, err := stdout.Write(append(out, '\n')); err != nil {
		return fail(ExitWrite, req.Source, fmt.Errorf("write result to stdout: %w", err))
	}
	return ExitOK
}

// handlerTimeout is the agent's deadline less a margin for answering.
func handlerTimeout(deadlineMS int) time.Duration {
	d := time.Duration(deadlineMS) * time.Millisecond
	return d - min(d/10, maxDeadlineMargin)
}

// readRequest reads one Request from r, ignoring fields it does not know.
func readRequest(r io.Reader) (Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRequestBytes+1))
	if err != nil {
		return Request{}, fmt.Errorf("read request from stdin: %w", err)
	}
	switch {
	case len(data) > maxRequestBytes:
		return Request{}, fmt.Errorf("request on stdin is larger than %d bytes", maxRequestBytes)
	case len(data) == 0:
		return Request{}, errors.New("no request on stdin; the CSCS agent writes one JSON request there (to test by hand: echo '{\"version\":1,\"source\":\"name\"}' | program)")
	}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return Request{}, fmt.Errorf("request on stdin is not a JSON request object: %w", err)
	}
	if req.Version != Version {
		return Request{}, fmt.Errorf("request speaks exec protocol version %d but this module speaks %d; build the module with an SDK matching the agent", req.Version, Version)
	}
	if !ValidSourceName(req.Source) {
		return Request{}, fmt.Errorf("request names the source %q; want lowercase letters, digits and '_'", clip(req.Source))
	}
	if req.DeadlineMS < 0 {
		return Request{}, fmt.Errorf("request has the negative deadline_ms %d", req.DeadlineMS)
	}
	return req, nil
}
