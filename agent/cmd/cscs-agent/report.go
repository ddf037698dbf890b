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
	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// collectReport runs the requested modules and builds the report.
func collectReport(ctx context.Context, req request, mods []module.Module) protocol.Report {
	hostname, _ := os.Hostname() // an unknown hostname leaves the field empty; the core knows the address
	results := collect.Run(ctx, mods, collect.Options{Names: req.Modules, Config: req.config, Timeout: req.timeout})
	return protocol.Report{
		Version:      protocol.Version,
		Nonce:        req.Nonce,
		Recipient:    req.Recipient,
		AgentVersion: version,
		Hostname:     hostname,
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		CollectedAt:  time.Now().UTC(),
		Modules:      results,
	}
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
