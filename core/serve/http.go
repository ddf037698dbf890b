package serve

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves /healthz (the process is alive), /readyz (a round ended
// within two intervals and every storage took it) and /metrics (the
// Prometheus exposition format).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
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

// notReady says why the service is not ready, or "" when it is.
func (s *Service) notReady() string {
	last, at := s.Last()
	switch {
	case last == nil:
		return "no round has completed yet"
	case s.opts.Now().Sub(at) > 2*s.opts.Interval:
		return fmt.Sprintf("the last round ended %s ago, more than two intervals (%s)", s.opts.Now().Sub(at).Round(time.Second), 2*s.opts.Interval)
	case !last.Stored:
		return "the last round was not stored in every storage (it is spooled); check the storage"
	}
	return ""
}
