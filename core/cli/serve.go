package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/serve"
)

// serveCommand is `cscs serve`: a round every --interval until SIGTERM or
// SIGINT, /healthz, /readyz and /metrics on --listen, and SIGHUP to load
// the configuration again (kept when the new one has errors).
func serveCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "serve")
	s.loadFlags(fs, env)
	s.dbFlags(fs)
	s.roundFlags(fs)
	listen := fs.String("listen", serve.DefaultListen, "address of /healthz, /readyz and /metrics (HTTP, no auth: keep it on loopback or behind a proxy)")
	format := fs.String("log-format", "text", "log format: text or json (one object a line, for journald and log shippers)")
	level := fs.String("log-level", "info", "least level logged: debug, info, warn or error")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	log, err := serve.NewLogger(env.Stderr, *format, *level)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs serve: %v\n", err)
		return ExitBadConfig
	}
	if !flagGiven(fs, "interval") {
		s.round.Interval = serve.DefaultInterval
	}
	plan, code := s.prepare(ctx, env, fs, "serve")
	if plan == nil {
		return code
	}
	svc := serve.New(plan, func(ctx context.Context) (*round.Plan, error) {
		if p, _ := s.prepare(ctx, env, fs, "serve"); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("%w: see the diagnostics above", round.ErrInvalid)
	}, serve.Options{Interval: s.round.Interval, Logger: log})
	defer svc.ReloadOnHangup(ctx)()
	if _, err := svc.ListenAndRun(ctx, *listen); err != nil {
		log.Error(err.Error())
		return ExitSomeFailed
	}
	return ExitOK
}
