// Command cscs is the CSCS core: it collects machine statistics from hosts
// over SSH. See `cscs help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/cscs-dev/cscs/core/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// moduleVersion is the version `go install …@v1.2.3` recorded, for a core
// built without -X main.version; else def.
func moduleVersion(def string) string {
	if def != "dev" {
		return def
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], moduleVersion(version), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
