package fleetbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/cscs-dev/cscs/core/demo/mailsink"
)

// EnvChildSink, set in a child's environment, makes ServeChildSink run a
// local SMTP server there, so that what receiving the benchmark's mail
// costs is not counted as the core's CPU.
const EnvChildSink = "FLEETBENCH_CHILD_SINK"

// ChildSink is a local SMTP server (mailsink, in memory) in a child
// process.
type ChildSink struct {
	// Port is its port on 127.0.0.1.
	Port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// StartChildSink runs exe (a binary whose main calls ServeChildSink, such
// as this package's test binary) as a mail sink and waits until it
// listens.
func StartChildSink(ctx context.Context, exe string) (*ChildSink, error) {
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), EnvChildSink+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("child mail sink stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("child mail sink stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start child mail sink %s: %w", exe, err)
	}
	s := &ChildSink{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	line, err := s.stdout.ReadString('\n')
	if err == nil {
		s.Port, err = strconv.Atoi(strings.TrimSpace(line))
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("child mail sink did not report its port: %w", err)
	}
	return s, nil
}

// Count is how many messages the sink has received.
func (s *ChildSink) Count() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.stdin, "count\n"); err != nil {
		return 0, err
	}
	line, err := s.stdout.ReadString('\n')
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(line))
}

// Close stops the child (closing its stdin) and waits for it.
func (s *ChildSink) Close() error {
	s.stdin.Close()
	return s.cmd.Wait()
}

// ServeChildSink is the child side: when EnvChildSink is set it starts a
// mail sink, prints its port, answers each "count" line on stdin with
// the messages received so far, stops when stdin closes and returns
// true; otherwise it returns false at once.
func ServeChildSink(stdin io.Reader, stdout io.Writer) (bool, error) {
	if os.Getenv(EnvChildSink) == "" {
		return false, nil
	}
	sink, err := mailsink.Start("")
	if err != nil {
		return true, err
	}
	defer sink.Close()
	if _, err := fmt.Fprintln(stdout, sink.Port); err != nil {
		return true, err
	}
	lines := bufio.NewScanner(stdin)
	for lines.Scan() {
		if lines.Text() == "count" {
			if _, err := fmt.Fprintln(stdout, sink.Count()); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}
