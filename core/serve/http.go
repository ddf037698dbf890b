package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/cscs-dev/cscs/core/round"
)

// paths are what Handler serves, for the log line at start.
const paths = "/ /hosts/{host} /healthz /readyz /metrics"

// Handler serves the status pages (/ the fleet, /hosts/{host} one host,
// /static/ their style sheet), /healthz (the process is alive), /readyz
// (a round ended within two intervals and every storage took it) and
// /metrics (the Prometheus exposition format).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveFleet)
	mux.HandleFunc("GET /hosts/{host}", s.serveHost)
	mux.Handle("GET /static/", s.pages.static)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if reason := s.notReady(); reason != "" {
			http.Error(w, reason, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{ErrorLog: nil}))
	return mux
}

// notStored is why a service whose latest round was spooled is not
// ready.
const notStored = "the last round was not stored in every storage (it is spooled); check the storage"

// notReady says why the service is not ready, or "" when it is.
func (s *Service) notReady() string {
	last, at, _ := s.Last()
	if m := s.clusterMember(); m != nil {
		// A member may have no hosts to collect in an interval (the
		// others took them): it is ready while it reaches the shared
		// state and its storages took its latest round.
		if reason := clusterNotReady(m, s.opts.Now()); reason != "" || last == nil || last.Stored {
			return reason
		}
		return notStored
	}
	tick := s.Tick()
	switch {
	case last == nil:
		return "no round has completed yet"
	case s.opts.Now().Sub(at) > 2*tick:
		return fmt.Sprintf("the last round ended %s ago, more than two intervals (%s)", s.opts.Now().Sub(at).Round(time.Second), 2*tick)
	case !last.Stored:
		return notStored
	}
	return ""
}

// DefaultListen is where `cscs serve` listens when --listen is not given:
// loopback only.
const DefaultListen = "127.0.0.1:9477"

// ListenAndRun serves Handler on addr and runs the rounds (Run) until ctx
// ends; then it stops the listener, letting requests in flight finish
// within a few seconds. webConfig, when not empty, is a Prometheus web
// configuration file (TLS and basic auth, exporter-toolkit's format),
// checked before anything starts. It returns an error when addr cannot be
// served or, with Options.Cluster, the cluster cannot be joined, else
// the last complete round.
func (s *Service) ListenAndRun(ctx context.Context, addr, webConfig string) (*round.Result, error) {
	if webConfig != "" {
		if err := web.Validate(webConfig); err != nil {
			return nil, fmt.Errorf("web configuration %s: %w", webConfig, err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w; choose another address with --listen", addr, err)
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && webConfig == "" && host != "localhost" && !net.ParseIP(host).IsLoopback() {
		s.opts.Logger.Warn("listening off loopback without TLS or authentication (no --web-config-file): whoever reaches " + addr + " reads the fleet's metrics")
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &webConfig}, s.opts.Logger) }()
	s.opts.Logger.Info("listening", "address", ln.Addr().String(), "paths", paths)
	var last *round.Result
	var runErr error
	if s.opts.Cluster != nil {
		runErr = s.RunCluster(ctx, *s.opts.Cluster)
		last, _, _ = s.Last()
	} else {
		last = s.Run(ctx)
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return last, fmt.Errorf("serving %s: %w", addr, err)
	}
	return last, runErr
}
