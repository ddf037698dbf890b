// Command cscs-agent is the program the CSCS core uploads to a host and
// runs there. It reads one JSON request on stdin, runs the requested
// modules, and writes the report, encrypted with age to the core's public
// key, on stdout. Errors go to stderr as one line; the exit status says
// which stage failed (see agent/protocol).
//
// The agent never outlives its round: it stops, killing its external
// modules with their process groups, when the request's deadline passes,
// when its session ends (end of file on the stdin the core holds open) or
// on SIGTERM, SIGHUP or SIGINT (see stop.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/all"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// setup is what one agent process works with.
type setup struct {
	// builtin are the modules compiled into the agent.
	builtin []module.Module
	// dir is the agent's own directory, the only place external modules
	// are run from; empty when it cannot be determined.
	dir string
}

func main() {
	s := setup{builtin: all.Builtin(), dir: ownDir()}
	ctx, stopSignals := stopOnSignals(context.Background())
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, s)
	stopSignals()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cscs-agent: "+err.Error())
		os.Exit(exitCode(err))
	}
}

// ownDir is the directory of the running executable, or "" (external
// modules are then refused).
func ownDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Dir(exe)
}

// run is the whole agent: args, request on stdin, encrypted report on
// stdout, using the given setup.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, s setup) error {
	flags := flag.NewFlagSet("cscs-agent", flag.ContinueOnError)
	flags.SetOutput(stderr)
	showVersion := flags.Bool("version", false, "print the agent version and exit")
	if err := flags.Parse(args); err != nil {
		return exitError{code: exitUsage, err: errors.New("bad arguments; the request is read from stdin, the only flag is -version")}
	}
	if flags.NArg() > 0 {
		return exitError{code: exitUsage, err: fmt.Errorf("unexpected argument %q; the request is read from stdin, the only flag is -version", flags.Arg(0))}
	}
	if *showVersion {
		_, err := fmt.Fprintln(stdout, version)
		return err
	}

	req, rest, err := readRequest(stdin)
	if err != nil {
		return err
	}
	ctx, stop := stopWhenDone(ctx, req, rest)
	defer stop()
	report := collectReport(ctx, req, s)
	if ctx.Err() != nil {
		return exitError{code: protocol.ExitStopped, err: fmt.Errorf("stopped before the report was complete: %w", context.Cause(ctx))}
	}
	return writeEncrypted(stdout, req.recipient, report)
}
