// Package extmod runs external modules: artifacts of source plugins that
// the core shipped beside the agent. Each one is checked (it must be a
// regular file directly in the agent's own directory, with the SHA-256 the
// request names), run with an agentmod.Request on stdin under its own
// deadline, and its stdout parsed as an agentmod.Result and validated.
// Whatever a module does, it yields one report entry; a failing module
// never fails the report.
package extmod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/agentmod"
)

// DefaultTimeout bounds a module when neither it nor the request names a
// timeout.
const DefaultTimeout = 10 * time.Second

// Runner runs the external modules of one request.
type Runner struct {
	// Dir is the agent's own directory; only artifacts directly in it run.
	// Empty refuses every module.
	Dir string
	// DefaultTimeout bounds a module whose TimeoutMillis is 0; zero or
	// negative means the package's DefaultTimeout.
	DefaultTimeout time.Duration
}

// Run runs mods concurrently and returns one result per module, in order.
// taken are the names already in the report (the built-in modules'). As
// the core refuses a report naming a module twice, a module whose Source
// is taken, or repeats an earlier module's, is not run and gets no entry.
// Run returns when every module has finished or been killed at its
// deadline.
func (r Runner) Run(ctx context.Context, mods []protocol.ExternalModule, taken []string) []protocol.ModuleResult {
	used := make(map[string]bool, len(taken)+len(mods))
	for _, n := range taken {
		used[n] = true
	}
	var run []protocol.ExternalModule
	for _, m := range mods {
		if !used[m.Source] {
			used[m.Source] = true
			run = append(run, m)
		}
	}
	results := make([]protocol.ModuleResult, len(run))
	var wg sync.WaitGroup
	for i, m := range run {
		wg.Go(func() { results[i] = r.runOne(ctx, m) })
	}
	wg.Wait()
	return results
}

// runOne turns one module's run into its report entry.
func (r Runner) runOne(ctx context.Context, m protocol.ExternalModule) protocol.ModuleResult {
	start := time.Now()
	res, err := r.execute(ctx, m)
	if err != nil {
		res = protocol.ModuleResult{Error: protocol.ErrorText(err.Error())}
	}
	res.Name = m.Source
	res.DurationMS = float64(time.Since(start)) / float64(time.Millisecond)
	return res
}

// execute checks, runs and reads one module.
func (r Runner) execute(ctx context.Context, m protocol.ExternalModule) (protocol.ModuleResult, error) {
	if !agentmod.ValidSourceName(m.Source) {
		return protocol.ModuleResult{}, fmt.Errorf("source name %q is not lower_snake_case of at most %d bytes; not run", clip(m.Source), agentmod.MaxSourceName)
	}
	if m.TimeoutMillis < 0 {
		return protocol.ModuleResult{}, fmt.Errorf("negative timeout_ms %d; use 0 for the default; not run", m.TimeoutMillis)
	}
	timeout := time.Duration(m.TimeoutMillis) * time.Millisecond
	if timeout == 0 {
		timeout = r.DefaultTimeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := checkArtifact(r.Dir, m.Path, m.SHA256); err != nil {
		return protocol.ModuleResult{}, err
	}
	stdin, err := json.Marshal(agentmod.Request{
		Version:    agentmod.Version,
		Source:     m.Source,
		DeadlineMS: int(timeout / time.Millisecond),
		Config:     m.Config,
		Cursor:     m.Cursor,
	})
	if err != nil {
		return protocol.ModuleResult{}, fmt.Errorf("encode the module's request: %w; not run", err)
	}
	stdout, err := r.start(ctx, m, timeout, stdin)
	if err != nil {
		return protocol.ModuleResult{}, err
	}
	return parseResult(m.Source, stdout)
}

// parseResult decodes and checks what a module printed.
func parseResult(source string, stdout []byte) (protocol.ModuleResult, error) {
	if len(bytes.TrimSpace(stdout)) == 0 {
		return protocol.ModuleResult{}, errors.New("exited with status 0 but printed nothing on stdout; it must print one JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	var res agentmod.Result
	if err := dec.Decode(&res); err != nil {
		return protocol.ModuleResult{}, fmt.Errorf("stdout is not an exec protocol result: %s (it starts %q)", clip(err.Error()), clip(string(stdout)))
	}
	if len(bytes.TrimSpace(stdout[dec.InputOffset():])) != 0 {
		return protocol.ModuleResult{}, errors.New("stdout holds more than one JSON object; print exactly one")
	}
	if err := res.Validate(source); err != nil {
		// The problems quote the module's output, where the JSON decoder
		// put U+FFFD for bytes that are not UTF-8.
		return protocol.ModuleResult{}, fmt.Errorf("invalid result: %s", sanitize(err.Error()))
	}
	out := protocol.ModuleResult{Cursor: res.Cursor, Raw: res.Raw}
	for _, mt := range res.Metrics {
		out.Metrics = append(out.Metrics, protocol.Metric{Name: mt.Name, Value: mt.Value, Unit: mt.Unit, Labels: mt.Labels})
	}
	for _, e := range res.Events {
		at, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil { // Validate parsed it already
			return protocol.ModuleResult{}, fmt.Errorf("invalid result: event time %q: %w", clip(e.Time), err)
		}
		out.Events = append(out.Events, protocol.Event{
			Channel: e.Channel, RecordID: e.RecordID, Time: at.UTC(), Level: e.Level,
			Provider: e.Provider, EventID: e.EventID, Message: e.Message, Fields: e.Fields,
		})
	}
	return out, nil
}
