// Command cscs is the CSCS core: it collects machine statistics from hosts
// over SSH. See `cscs help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cscs-dev/cscs/core/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], version, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
