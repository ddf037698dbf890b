// Package collect runs the agent's modules for one request: each module
// concurrently, each under its own deadline, and turns what they return
// (or how they fail) into report entries.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// DefaultTimeout bounds one module's run when the request names no timeout.
const DefaultTimeout = 10 * time.Second

// Options are the settings of one collection.
type Options struct {
	// Names are the modules to run, in report order. Empty means every
	// available module. A repeated name runs once, at its first position.
	Names []string
	// Config is passed to every module; its Settings are replaced by the
	// module's entry in Settings.
	Config module.Config
	// Settings are per-module settings by module name (optional).
	Settings map[string]json.RawMessage
	// Cursors are the event modules' cursors from last round by module
	// name; a module without an entry starts from its first-round window.
	Cursors map[string]string
	// Timeout bounds each module; zero or negative means DefaultTimeout.
	Timeout time.Duration
}

// Run runs the requested modules out of available and returns one result
// per distinct requested name, in request order. A module that fails,
// panics, overruns its deadline or yields a non-finite value gets an entry
// with Error set; the others are unaffected. Run returns once every module
// has finished or hit its deadline.
func Run(ctx context.Context, available []module.Module, opts Options) []protocol.ModuleResult {
	byName := make(map[string]module.Module, len(available))
	var known []string
	for _, m := range available {
		byName[m.Name()] = m
		known = append(known, m.Name())
	}
	names := opts.Names
	if len(names) == 0 {
		names = known
	}
	names = dedupe(names)
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	results := make([]protocol.ModuleResult, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		m, ok := byName[name]
		if !ok {
			results[i] = protocol.ModuleResult{
				Name:  name,
				Error: protocol.ErrorText(fmt.Sprintf("unknown module %q; known: %s", name, strings.Join(known, ", "))),
			}
			continue
		}
		cfg := opts.Config
		cfg.Settings = opts.Settings[name]
		wg.Go(func() { results[i] = runOne(ctx, m, cfg, opts.Cursors[name], timeout) })
	}
	wg.Wait()
	return results
}

type outcome struct {
	metrics []protocol.Metric
	events  []protocol.Event
	cursor  string
	err     error
}

// runOne runs m under its own deadline. If m ignores the deadline, runOne
// stops waiting for it; its goroutine is abandoned (the agent exits soon).
// An EventModule is asked for events after cursor instead of metrics.
func runOne(parent context.Context, m module.Module, cfg module.Config, cursor string, timeout time.Duration) protocol.ModuleResult {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	start := time.Now()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: fmt.Errorf("module panicked: %v", r)}
			}
		}()
		if em, ok := m.(module.EventModule); ok {
			events, metrics, next, err := em.CollectEvents(ctx, cfg, cursor)
			done <- outcome{metrics: metrics, events: events, cursor: next, err: err}
			return
		}
		metrics, err := m.Collect(ctx, cfg)
		done <- outcome{metrics: metrics, err: err}
	}()

	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		o.err = ctx.Err()
	}
	res := protocol.ModuleResult{Name: m.Name(), DurationMS: float64(time.Since(start)) / float64(time.Millisecond)}
	var partial module.PartialError
	switch {
	case errors.As(o.err, &partial) && len(o.metrics) > 0 && checkFinite(o.metrics) == nil:
		res.Metrics = o.metrics
		res.Error = protocol.ErrorText(partial.Error())
	case errors.Is(o.err, context.DeadlineExceeded) || (o.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)):
		res.Error = fmt.Sprintf("did not finish within %v; raise module_timeout_ms or check whether the host is overloaded", timeout)
	case o.err != nil:
		res.Error = protocol.ErrorText(o.err.Error())
	default:
		if err := checkFinite(o.metrics); err != nil {
			res.Error = protocol.ErrorText(err.Error())
		} else {
			res.Metrics = o.metrics
		}
		res.Events, res.Cursor = o.events, o.cursor
	}
	return res
}

func checkFinite(metrics []protocol.Metric) error {
	for _, mt := range metrics {
		if math.IsNaN(mt.Value) || math.IsInf(mt.Value, 0) {
			return fmt.Errorf("module produced a non-finite value for %s; the operating system returned unusable figures", mt.Name)
		}
	}
	return nil
}

func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
