// Command cscs-agent is the program the CSCS core uploads to a host and
// runs there. It reads one JSON request on stdin, runs the requested
// modules, and writes the report, encrypted with age to the core's public
// key, on stdout. Errors go to stderr as one line; the exit status says
// which stage failed (see agent/protocol).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/all"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, all.Builtin())
	if err != nil {
		fmt.Fprintln(os.Stderr, "cscs-agent: "+err.Error())
		os.Exit(exitCode(err))
	}
}

// run is the whole agent: args, request on stdin, encrypted report on
// stdout, using the given modules.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, mods []module.Module) error {
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

	req, err := readRequest(stdin)
	if err != nil {
		return err
	}
	report := collectReport(ctx, req, mods)
	return writeEncrypted(stdout, req.recipient, report)
}
