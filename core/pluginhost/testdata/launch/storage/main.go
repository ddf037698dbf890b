// Command storage is a test storage plugin whose misbehaviour the flags
// choose: -start exit|sleep fails its start-up, -write panic|hang breaks
// WriteBatch.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

type store struct {
	write  string
	logger hclog.Logger
}

func (s *store) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "fixture", Version: "0.1.0"}, nil
}

func (s *store) Open(_ context.Context, config []byte) error {
	s.logger.Info("opening the fixture store", "config_bytes", len(config))
	return nil
}

func (s *store) WriteBatch(ctx context.Context, b *storage.Batch) error {
	switch s.write {
	case "panic":
		panic("fixture store: write batch " + b.RoundID + " failed on purpose")
	case "hang":
		select {} // ignores ctx, like a plugin stuck in a system call
	case "error":
		s.logger.Error("write failed", "error", "disk full")
		return fmt.Errorf("writing round %s: disk full", b.RoundID)
	}
	return ctx.Err()
}

func (s *store) Close(context.Context) error { return nil }

func main() {
	start := flag.String("start", "", "exit or sleep instead of serving")
	write := flag.String("write", "", "panic, hang or error in WriteBatch")
	flag.Parse()
	switch *start {
	case "exit":
		fmt.Fprintln(os.Stderr, "fixture: cannot read /etc/fixture.conf: permission denied")
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Minute)
	}
	logger := sdkplugin.NewLogger("fixture")
	sdkplugin.Serve(sdkplugin.ServeConfig{Storage: &store{write: *write, logger: logger}, Logger: logger})
}
