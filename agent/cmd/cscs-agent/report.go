package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/collect"
	"github.com/cscs-dev/cscs/agent/extmod"
	"github.com/cscs-dev/cscs/agent/modules/uptime"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// collectReport runs the requested modules and builds the report. The
// built-in modules run first and the external ones after them, so that
// the CPU sample does not measure the external modules' own work.
func collectReport(ctx context.Context, req request, s setup) protocol.Report {
	hostname, _ := os.Hostname() // an unknown hostname leaves the field empty; the core knows the address
	results := []protocol.ModuleResult{}
	if len(req.Modules) > 0 || len(req.External) == 0 {
		results = collect.Run(ctx, s.builtin, collect.Options{
			Names: req.Modules, Config: req.config, Timeout: req.timeout,
			Settings: req.ModuleConfig, Cursors: req.Cursors,
		})
	}
	if len(req.External) > 0 {
		taken := make([]string, len(results))
		for i, r := range results {
			taken[i] = r.Name
		}
		runner := extmod.Runner{Dir: s.dir, DefaultTimeout: req.timeout}
		results = append(results, runner.Run(ctx, req.External, taken)...)
	}
	now := time.Now().UTC()
	return protocol.Report{
		BootTime:     bootTime(ctx, now, results),
		Version:      protocol.Version,
		Nonce:        req.Nonce,
		Recipient:    req.Recipient,
		AgentVersion: version,
		Hostname:     hostname,
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		CollectedAt:  now,
		Modules:      results,
	}
}

// bootTime is when the host booted, for a report whose results hold a
// counter (the core takes a counter of a host rebooted since its previous
// round as reset); zero otherwise, or when the uptime cannot be read.
func bootTime(ctx context.Context, now time.Time, results []protocol.ModuleResult) time.Time {
	for _, r := range results {
		for _, m := range r.Metrics {
			if m.Counter {
				t, _ := uptime.BootTime(ctx, now)
				return t
			}
		}
	}
	return time.Time{}
}

// writeEncrypted encrypts report to recipient and writes it to w in one
// piece, so a failure never leaves half a report on stdout.
func writeEncrypted(w io.Writer, recipient *age.X25519Recipient, report protocol.Report) error {
	plain, err := json.Marshal(report)
	if err != nil {
		return exitError{code: protocol.ExitEncrypt, err: fmt.Errorf("encode report: %w", err)}
	}
	var sealed bytes.Buffer
	enc, err := age.Encrypt(&sealed, recipient)
	if err != nil {
		return exitError{code: protocol.ExitEncrypt, err: fmt.Errorf("encrypt report: %w", err)}
	}
	if _, err := enc.Write(plain); err != nil {
		return exitError{code: protocol.ExitEncrypt, err: fmt.Errorf("encrypt report: %w", err)}
	}
	if err := enc.Close(); err != nil {
		return exitError{code: protocol.ExitEncrypt, err: fmt.Errorf("encrypt report: %w", err)}
	}
	if _, err := sealed.WriteTo(w); err != nil {
		return exitError{code: protocol.ExitEncrypt, err: fmt.Errorf("write report to stdout: %w", err)}
	}
	return nil
}
