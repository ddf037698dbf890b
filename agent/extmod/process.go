package extmod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/agentmod"
)

// The agent starts modules with os.StartProcess rather than os/exec:
// os/exec would add about 200 KB to every agent binary.

// waitDelay is how long the agent waits for a module's pipes to close
// once the module has exited or been killed; a descendant that left the
// process group and kept them open is cut off after it.
const waitDelay = time.Second

// start runs the artifact with stdin and returns its stdout, or an error
// saying how the run failed. The module is killed, with what it started
// (its process group on Unix, its job object on Windows), when timeout
// passes, when parent ends or when it prints more than
// agentmod.MaxResultBytes.
func (r Runner) start(parent context.Context, m protocol.ExternalModule, timeout time.Duration, stdin []byte) ([]byte, error) {
	argv := append(append([]string(nil), m.Interpreter...), m.Path)
	exe, err := lookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("could not start %s: %w", describe(argv), err)
	}
	p, err := newPipes()
	if err != nil {
		return nil, fmt.Errorf("could not start %s: %w", describe(argv), err)
	}
	defer p.closeParent()
	proc, err := os.StartProcess(exe, argv, &os.ProcAttr{Dir: r.Dir, Files: p.childFiles(), Sys: sysProcAttr()})
	p.closeChild()
	if err != nil {
		return nil, fmt.Errorf("could not start %s: %w", describe(argv), err)
	}
	procs, err := newTree(proc)
	if err != nil {
		_ = proc.Kill()
		_, _ = proc.Wait()
		return nil, fmt.Errorf("could not start %s: %w", describe(argv), err)
	}

	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	stopKiller := context.AfterFunc(ctx, func() { _ = procs.kill() })
	stdout := &cappedBuffer{max: agentmod.MaxResultBytes, overflow: cancel}
	stderr := &cappedBuffer{max: agentmod.MaxStderrBytes}
	var copying sync.WaitGroup
	copying.Go(func() { writeAndClose(p.stdinW, stdin) })
	copying.Go(func() { drain(stdout, p.stdoutR) })
	copying.Go(func() { drain(stderr, p.stderrR) })

	state, waitErr := proc.Wait()
	stopKiller()
	procs.close()
	p.await(&copying, waitDelay)

	switch {
	case stdout.overflowed:
		return nil, fmt.Errorf("printed more than %d bytes on stdout; killed %s", agentmod.MaxResultBytes, procs.killed())
	case waitErr != nil:
		return nil, fmt.Errorf("wait for %s: %w", describe(argv), waitErr)
	case state.Success():
		return stdout.Bytes(), nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil:
		return nil, fmt.Errorf("did not finish within %v; killed %s (raise the source's timeout or make the module faster)", timeout, procs.killed())
	case parent.Err() != nil:
		return nil, fmt.Errorf("stopped because the agent was stopped: %w", parent.Err())
	case state.ExitCode() >= 0:
		return nil, fmt.Errorf("exited with status %d: %s", state.ExitCode(), stderrSummary(stderr.Bytes()))
	default:
		return nil, fmt.Errorf("ended with %s: %s", state, stderrSummary(stderr.Bytes()))
	}
}

// pipes connect the agent to a module's stdin, stdout and stderr.
type pipes struct {
	stdinR, stdinW   *os.File
	stdoutR, stdoutW *os.File
	stderrR, stderrW *os.File
}

func newPipes() (*pipes, error) {
	var p pipes
	var err error
	if p.stdinR, p.stdinW, err = os.Pipe(); err != nil {
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	if p.stdoutR, p.stdoutW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	if p.stderrR, p.stderrW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	return &p, nil
}

func (p *pipes) childFiles() []*os.File { return []*os.File{p.stdinR, p.stdoutW, p.stderrW} }

// closeChild closes the ends the module inherited, so that the agent's
// reads end when the module (and whatever it started) has exited.
func (p *pipes) closeChild() { closeFiles(p.stdinR, p.stdoutW, p.stderrW) }

func (p *pipes) closeParent() { closeFiles(p.stdinW, p.stdoutR, p.stderrR) }

func (p *pipes) closeAll() { p.closeChild(); p.closeParent() }

// await waits for the copying goroutines; after delay it closes the
// agent's ends, which ends them, and waits for that.
func (p *pipes) await(copying *sync.WaitGroup, delay time.Duration) {
	done := make(chan struct{})
	go func() { copying.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(delay):
		p.closeParent()
		<-done
	}
}

func closeFiles(files ...*os.File) {
	for _, f := range files {
		if f != nil {
			_ = f.Close()
		}
	}
}

// writeAndClose gives the module its request. A module that exits without
// reading it makes the write fail, which is not an error of the module.
func writeAndClose(w *os.File, data []byte) {
	_, _ = w.Write(data)
	_ = w.Close()
}

// drain copies r into w until r ends or w refuses more.
func drain(w io.Writer, r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// describe names what was started, for an error message.
func describe(argv []string) string {
	if len(argv) == 1 {
		return argv[0]
	}
	return fmt.Sprintf("%s with interpreter %s", argv[len(argv)-1], argv[0])
}
