package serve

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// ReloadOnHangup reloads the configuration (Reload) every time the
// process receives SIGHUP, until ctx ends or stop is called.
func (s *Service) ReloadOnHangup(ctx context.Context) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-hup:
				_ = s.Reload(ctx)
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { signal.Stop(hup); cancel() }
}
