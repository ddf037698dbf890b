package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// stopWhenDone returns ctx ended, with the reason as its cause, when the
// request's deadline passes or, when the core holds stdin open
// (protocol.Request.HoldsStdin), when stdin ends: the session is gone, so
// nobody would read the report. rest is stdin after the request. stop
// releases the timer; the goroutine reading rest ends with stdin.
func stopWhenDone(ctx context.Context, req request, rest io.Reader) (_ context.Context, stop func()) {
	stops := []func(){}
	if req.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, req.deadline,
			fmt.Errorf("its deadline of %v (deadline_ms in the request) passed", req.deadline))
		stops = append(stops, cancel)
	}
	if req.HoldsStdin {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		go func() {
			_, err := io.Copy(io.Discard, rest)
			if err == nil {
				err = io.EOF
			}
			cancel(fmt.Errorf("its session ended: stdin, which the core holds open until the report, closed (%w)", err))
		}()
		stops = append(stops, func() { cancel(nil) })
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
	}
}

// stopOnSignals returns ctx ended, with the signal as its cause, when the
// process receives one of stopSignals: sshd forwards a session's signal
// request (the core sends SIGTERM when it gives up on the host) and ends
// a terminal's session with SIGHUP. SIGPIPE keeps its default: Go ends
// the process on a write to a closed stdout or stderr, which the agent
// makes only once its modules have ended, while noting it would also
// stop the agent when a module exits without reading its stdin. stop
// restores the default handling.
func stopOnSignals(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, stopSignals()...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			cancel(fmt.Errorf("it received %v", sig))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		cancel(errors.New("the agent finished"))
	}
}
