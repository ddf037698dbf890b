package fleetbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/cscs-dev/cscs/core/cli"
)

// TestMain lets the test binary serve as the plugin processes `cscs run`
// re-executes, as the child process of the large fleet and as the mail
// sink's.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], "bench", os.Stdin, os.Stdout, os.Stderr))
	}
	for _, child := range []func(io.Reader, io.Writer) (bool, error){ServeChildFleet, ServeChildSink} {
		served, err := child(os.Stdin, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench child:", err)
			os.Exit(1)
		}
		if served {
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}
