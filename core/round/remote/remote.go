// Package remote is the per-host pipeline of a round: connect over SSH,
// detect the platform, make sure the agent is on the host, run it with a
// fresh request, decrypt and verify its report, and turn it into samples.
// Every failure becomes a status and an actionable error text on the
// host's collection; nothing here stops the round.
//
// A host whose platform an earlier round detected (Settings.Platforms)
// takes one command after the handshake: it checks on the host that the
// platform and the agent an earlier round left are still in place and the
// agent's SHA-256, then runs it (transport.Client.RunCached). Only when
// something is not in place does the host take the full path: detect,
// ensure the files over SFTP, run.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unique"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/agentstore"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/core/rate"
	"github.com/cscs-dev/cscs/core/report"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// AgentSource supplies the agent binary for a platform.
type AgentSource interface {
	Get(goos, goarch string) (*agentstore.Agent, error)
}

// Planner says, per platform, which built-in modules to request and which
// external modules to ship (see package sources).
type Planner interface {
	PlanFor(ctx context.Context, p source.Platform) sources.Plan
	Decoder(name string) (source.Decoder, bool)
	// Unit is the unit a loaded source declares for metric; ok is false
	// when none does (then the built-in metric table is asked).
	Unit(metric string) (unit string, ok bool)
}

// Settings configure a Collector.
type Settings struct {
	Identity *age.X25519Identity
	Agents   AgentSource
	HostKeys *transport.HostKeys

	ConnectTimeout   time.Duration
	HandshakeTimeout time.Duration
	// CPUSample is the agent's CPU sampling window.
	CPUSample time.Duration
	// Sources plans what each platform runs; nil runs every built-in
	// module of the agent.
	Sources Planner
	// UseSSHAgent offers the keys of the ssh-agent at $SSH_AUTH_SOCK.
	UseSSHAgent bool
	// Cursors keeps the event modules' cursors per host, keyed by module
	// name; nil sends none and keeps none (each round then reads the
	// modules' first-round window again).
	Cursors CursorStore
	// Counters keeps each host's counters between rounds, from which the
	// next round computes rates; nil computes none (the counters are then
	// dropped from every report).
	Counters CounterStore
	// ModuleConfig is sent to every host as Request.ModuleConfig.
	ModuleConfig map[string]json.RawMessage
	// Policy adapts the sources and module settings to each host; nil
	// treats every host alike.
	Policy HostPolicy
	// Platforms remembers each host's platform between rounds, so a
	// round can skip detection and the SFTP check; nil detects every
	// host every round.
	Platforms PlatformCache
	// MaxHandshakes bounds the SSH connects and handshakes in progress at
	// once, apart from how many hosts the engine works on
	// (DefaultMaxHandshakes when zero or negative).
	MaxHandshakes int
	// MaxUploads bounds the hosts receiving the agent, or checking it over
	// SFTP, at once (DefaultMaxUploads when zero or negative).
	MaxUploads int
}

// DefaultMaxHandshakes is the default bound on concurrent handshakes. The
// engine's default concurrency is higher: hosts waiting on their agent
// cost little, handshakes cost CPU on both sides. Half the concurrency lets
// the hosts of a round finish their handshakes close together, so their
// sampling windows overlap at the end of the round (measured against 64
// and 256 on 200 sshd hosts: docs/performance.md).
const DefaultMaxHandshakes = 128

// DefaultMaxUploads is the default bound on hosts receiving the agent (or
// checking it over SFTP) at once: each upload keeps its own window of
// packets in flight, and a cold round of hundreds of hosts would otherwise
// upload to all of them at the same time.
const DefaultMaxUploads = 64

// PlatformCache keeps the platform detected on each host for the login
// user between rounds. core/state.DB implements it.
type PlatformCache interface {
	Platform(ctx context.Context, hostIP string, hostPort int, user string) (transport.Platform, bool, error)
	SetPlatform(ctx context.Context, hostIP string, hostPort int, user string, p transport.Platform) error
}

// HostPolicy adapts a round to one host once its platform is known: the
// sources it runs and the settings of their modules. The overlay's host
// groups implement it.
type HostPolicy interface {
	ForHost(cl config.Client, p source.Platform) HostPlan
}

// HostPlan is what a HostPolicy decided for one host.
type HostPlan struct {
	// Sources, when not nil, are the only sources the host runs.
	Sources []string
	// ModuleConfig entries replace Settings.ModuleConfig's for the modules
	// they name.
	ModuleConfig map[string]json.RawMessage
}

// CursorStore keeps where each host's event modules read up to. The
// channel is the module's name. core/state.DB implements it.
type CursorStore interface {
	Cursor(ctx context.Context, hostIP string, hostPort int, channel string) (string, bool, error)
	SetCursor(ctx context.Context, hostIP string, hostPort int, channel, cursor string) error
}

// CounterStore keeps the counters a host reported in its latest round,
// keyed by metric and labels (see rate.Apply). core/state.DB implements
// it.
type CounterStore interface {
	Counters(ctx context.Context, hostIP string, hostPort int) (map[string]rate.Counter, bool, error)
	SetCounters(ctx context.Context, hostIP string, hostPort int, counters map[string]rate.Counter) error
}

// Collector runs the pipeline for one host at a time; it is safe for
// concurrent use by many goroutines.
type Collector struct {
	s          Settings
	recipient  string
	handshakes *transport.HandshakeGate
	// keyFiles parses the clients' key files once for the Collector's
	// life (a round): an RSA key costs milliseconds to parse.
	keyFiles *transport.KeyFiles
	// uploads holds a slot per host in EnsureAll or Upload.
	uploads chan struct{}
}

// New returns a Collector.
func New(s Settings) *Collector {
	handshakes, uploads := s.MaxHandshakes, s.MaxUploads
	if handshakes <= 0 {
		handshakes = DefaultMaxHandshakes
	}
	if uploads <= 0 {
		uploads = DefaultMaxUploads
	}
	return &Collector{s: s, recipient: s.Identity.Recipient().String(), handshakes: transport.NewHandshakeGate(handshakes),
		keyFiles: transport.NewKeyFiles(), uploads: make(chan struct{}, uploads)}
}

// uploading waits for an upload slot; done gives it back. It fails only
// when ctx ends first.
func (c *Collector) uploading(ctx context.Context) (done func(), err error) {
	select {
	case c.uploads <- struct{}{}:
		return func() { <-c.uploads }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// maxReport bounds the encrypted report read from a host.
const maxReport = 8 << 20

// Collect gathers one client's statistics.
func (c *Collector) Collect(ctx context.Context, cl config.Client) storage.Collection {
	col := storage.Collection{HostIP: cl.IP, HostPort: cl.Port, StartedAt: time.Now().UTC()}
	fail := func(step string, err error) storage.Collection {
		col.Status = StatusOf(ctx, err)
		col.Error = fmt.Sprintf("%s: %v", step, err)
		return col
	}

	t0 := time.Now()
	client, err := transport.Dial(ctx, Target(cl, c.s.UseSSHAgent), transport.Options{
		ConnectTimeout:   c.s.ConnectTimeout,
		HandshakeTimeout: c.s.HandshakeTimeout,
		HostKeys:         c.s.HostKeys,
		Handshakes:       c.handshakes,
		KeyFiles:         c.keyFiles,
	})
	col.Timings.Connect = time.Since(t0)
	if err != nil {
		return fail("connect", err)
	}
	defer client.Close()

	var (
		job     *hostJob
		out     []byte
		checked bool // the run's error is final: no need for the full path
	)
	known, cached := c.knownPlatform(ctx, cl)
	var fresh transport.Platform // the platform RunCached's probe saw
	if cached && known.OS != "windows" {
		// A platform without an agent or plan (a stale row) falls
		// through to detection, which then says what is wrong.
		if job, err = c.prepare(ctx, cl, known); err == nil {
			out, checked, fresh, err = c.runCached(ctx, client, &col, job)
			if checked && err != nil {
				return fail("run agent", err)
			}
		}
	}
	if !checked {
		plat := fresh
		if plat.OS == "" {
			t0 = time.Now()
			plat, err = client.Detect(ctx)
			col.Timings.Detect = time.Since(t0)
			if err != nil {
				return fail("detect platform", err)
			}
		}
		if !cached || !samePlatform(plat, known) {
			c.rememberPlatform(ctx, cl, plat)
		}
		if job == nil || job.plat != plat {
			if job, err = c.prepare(ctx, cl, plat); err != nil {
				return c.failPrepare(ctx, col, err)
			}
		}
		if out, err = c.ensureAndRun(ctx, client, &col, job); err != nil {
			return fail(job.failedStep, err)
		}
	}

	rep, ok := c.accept(ctx, &col, job.plat, out, job.req.Nonce)
	if !ok {
		return col
	}
	c.keepCursors(ctx, cl, rep)
	c.repairExternal(ctx, client, job.plat, rep, job.plan, job.arts)
	addNotes(&col, job.plan.Skipped...)
	return col
}

// accept opens the agent's output out as the answer to the request that
// carried nonce, has its sources decode their raw output, drops the values
// that cannot be right (report.Screen) and fills col from the rest. A
// report that cannot be opened makes col bad_report and ok false.
func (c *Collector) accept(ctx context.Context, col *storage.Collection, plat transport.Platform, out []byte, nonce string) (*protocol.Report, bool) {
	rep, err := report.Open(c.s.Identity, bytes.NewReader(out), nonce)
	if err != nil {
		col.Status = storage.StatusBadReport
		col.Error = fmt.Sprintf("report: %v", err)
		return nil, false
	}
	c.decode(ctx, plat, rep)
	rejected := report.Screen(rep, c.declaredUnit, col.StartedAt, time.Now().UTC())
	c.counterRates(ctx, col.HostIP, col.HostPort, rep)
	fillFromReport(col, rep)
	addErrors(col, "rejected values: ", rejected)
	return rep, true
}

// declaredUnit is the unit a loaded source declares for metric, or else
// the built-in metric table's; ok is false for a metric neither knows.
func (c *Collector) declaredUnit(metric string) (string, bool) {
	if c.s.Sources != nil {
		if unit, ok := c.s.Sources.Unit(metric); ok {
			return unit, true
		}
	}
	return metrics.Unit(metric)
}

// addErrors adds errs, after prefix, to col's error text.
func addErrors(col *storage.Collection, prefix string, errs []error) {
	if len(errs) == 0 {
		return
	}
	texts := make([]string, len(errs))
	for i, err := range errs {
		texts[i] = err.Error()
	}
	addNotes(col, prefix+strings.Join(texts, "; "))
}

// addNotes appends notes to col's error text, "; " between them, capped.
func addNotes(col *storage.Collection, notes ...string) {
	if len(notes) == 0 {
		return
	}
	col.Error = joinCapped(append([]string{col.Error}, notes...), "; ", maxErrorText)
	col.Error = strings.TrimPrefix(col.Error, "; ")
}

// maxErrorText caps the notes a collection's error text gathers.
const maxErrorText = 1000

// hostJob is one host's request for one platform: what to run, what must
// be on the host for it, and the request itself.
type hostJob struct {
	plat transport.Platform
	plan sources.Plan
	// arts are the agent and then the plan's external modules.
	arts []transport.Artifact
	req  protocol.Request
	// reqJSON is req encoded, without a deadline (see stdin).
	reqJSON []byte
	// failedStep names what ensureAndRun was doing when it failed.
	failedStep string
}

// stdin is the request for a run of the agent that starts now: req with
// the deadline left to the host (see agentDeadline).
func (job *hostJob) stdin(ctx context.Context) ([]byte, error) {
	ms := agentDeadline(ctx)
	if ms == 0 {
		return job.reqJSON, nil
	}
	req := job.req
	req.DeadlineMillis = ms
	data, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return data, nil
}

// Margins of agentDeadline: a tenth of the time left, within these bounds.
const (
	minDeadlineMargin = 250 * time.Millisecond
	maxDeadlineMargin = 2 * time.Second
)

// agentDeadline is the request's deadline_ms for an agent starting now:
// the time left until ctx's deadline (the host's timeout) less a margin
// for starting the agent and for its answer to come back, so that the
// agent stops its modules and says so before the core gives up on the
// host. 0 when ctx has no deadline; at least 1 once it is near.
func agentDeadline(ctx context.Context) int {
	end, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	left := time.Until(end)
	margin := min(max(left/10, minDeadlineMargin), maxDeadlineMargin)
	return int(max((left-margin)/time.Millisecond, 1))
}

// noAgentError is a platform without an agent in the AgentSource.
type noAgentError struct {
	plat transport.Platform
	err  error
}

func (e *noAgentError) Error() string {
	return fmt.Sprintf("host is %s/%s: %v", e.plat.OS, e.plat.Arch, e.err)
}

// prepare plans the round for a host of platform plat: the agent and
// external modules it needs, and the request with the modules, their
// settings (after the HostPolicy), their cursors and a fresh nonce.
func (c *Collector) prepare(ctx context.Context, cl config.Client, plat transport.Platform) (*hostJob, error) {
	agent, err := c.s.Agents.Get(plat.OS, plat.Arch)
	if err != nil {
		return nil, &noAgentError{plat: plat, err: err}
	}
	job := &hostJob{plat: plat}
	art := transport.Artifact{Name: "cscs-agent", Data: agent.Data, SHA256: agent.SHA256, Gzip: agent.Gzip}
	job.req = protocol.Request{Version: protocol.Version, Recipient: c.recipient,
		CPUSampleMillis: int(c.s.CPUSample / time.Millisecond), ModuleConfig: c.s.ModuleConfig,
		HoldsStdin: transport.HoldsStdin(plat)}
	job.arts = []transport.Artifact{art}
	if c.s.Sources != nil {
		pl := source.Platform{OS: plat.OS, Arch: plat.Arch}
		job.plan = c.s.Sources.PlanFor(ctx, pl)
		if c.s.Policy != nil {
			hp := c.s.Policy.ForHost(cl, pl)
			if hp.Sources != nil {
				job.plan = job.plan.Only(hp.Sources)
			}
			job.req.ModuleConfig = mergeModuleConfig(c.s.ModuleConfig, hp.ModuleConfig)
		}
		job.req.Modules = job.plan.Builtins
		for _, e := range job.plan.External {
			job.arts = append(job.arts, transport.Artifact{Name: e.Artifact.FileName, Data: e.Artifact.Data, SHA256: e.SHA256})
		}
	}
	cursors := c.readCursors(ctx, cl, job.plan)
	for i, e := range job.plan.External {
		p, err := job.arts[i+1].RemotePath(plat)
		if err != nil {
			return nil, fmt.Errorf("external module %s: %w", e.Source, err)
		}
		// The source's settings (a group's module block) travel as the
		// exec protocol's config. (Its entry in module_config, which is
		// for built-in modules, is ignored by the agent; the map is shared
		// between hosts, so it stays.)
		settings, err := externalConfig(job.req.ModuleConfig[e.Source])
		if err != nil {
			return nil, fmt.Errorf("settings of source %s: %w", e.Source, err)
		}
		job.req.External = append(job.req.External, protocol.ExternalModule{
			Source: e.Source, Path: p, SHA256: e.SHA256, Interpreter: e.Artifact.Interpreter,
			TimeoutMillis: int(e.Artifact.Timeout / time.Millisecond), Cursor: cursors[e.Source], Config: settings,
		})
		delete(cursors, e.Source)
	}
	job.req.Cursors = cursors
	if job.req.Nonce, err = report.NewNonce(); err != nil {
		return nil, fmt.Errorf("make nonce: %w", err)
	}
	if job.reqJSON, err = json.Marshal(job.req); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return job, nil
}

// failPrepare records why prepare failed.
func (c *Collector) failPrepare(ctx context.Context, col storage.Collection, err error) storage.Collection {
	var na *noAgentError
	if errors.As(err, &na) {
		col.Status = storage.StatusAgentError
		col.Error = na.Error()
		return col
	}
	col.Status = StatusOf(ctx, err)
	col.Error = fmt.Sprintf("prepare request: %v", err)
	return col
}

// runCached runs the agent an earlier round left on the host, in one
// command (see transport.Client.RunCached); a tampered agent is uploaded
// again and run once more. checked is false when the host is not as the
// cached platform says: then nothing ran, and fresh is the platform the
// host reported (zero if it could not tell), for the full path.
func (c *Collector) runCached(ctx context.Context, client *transport.Client, col *storage.Collection, job *hostJob) (out []byte, checked bool, fresh transport.Platform, err error) {
	stdin, err := job.stdin(ctx)
	if err != nil {
		return nil, true, transport.Platform{}, err
	}
	t0 := time.Now()
	out, _, err = client.RunCached(ctx, job.plat, job.arts[0], job.arts[1:], stdin, maxReport)
	col.Timings.Exec = time.Since(t0)
	var nip *transport.NotInPlaceError
	switch {
	case errors.As(err, &nip):
		return nil, false, nip.Platform, nil
	case errors.Is(err, transport.ErrAgentChecksum):
		out, err = c.reupload(ctx, client, col, job)
	}
	return out, true, transport.Platform{}, err
}

// ensureAndRun puts the agent and external modules in place over SFTP
// when missing and runs the agent.
func (c *Collector) ensureAndRun(ctx context.Context, client *transport.Client, col *storage.Collection, job *hostJob) ([]byte, error) {
	t0 := time.Now()
	done, err := c.uploading(ctx)
	if err != nil {
		job.failedStep = "upload agent"
		return nil, err
	}
	paths, uploaded, err := client.EnsureAll(ctx, job.plat, job.arts)
	done()
	col.Timings.Upload += time.Since(t0)
	col.AgentUploaded = col.AgentUploaded || (len(uploaded) > 0 && uploaded[0])
	if err != nil {
		job.failedStep = "upload agent"
		return nil, err
	}
	job.failedStep = "run agent"
	stdin, err := job.stdin(ctx)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	out, _, err := client.Run(ctx, job.plat, paths[0], job.arts[0].SHA256, stdin, maxReport)
	col.Timings.Exec += time.Since(t0)
	if errors.Is(err, transport.ErrAgentChecksum) {
		return c.reupload(ctx, client, col, job)
	}
	return out, err
}

// reupload replaces an agent that failed its checksum on the host (damaged
// or replaced) and runs it, once.
func (c *Collector) reupload(ctx context.Context, client *transport.Client, col *storage.Collection, job *hostJob) ([]byte, error) {
	t0 := time.Now()
	done, err := c.uploading(ctx)
	if err != nil {
		return nil, err
	}
	remote, err := client.Upload(ctx, job.plat, job.arts[0])
	done()
	col.Timings.Upload += time.Since(t0)
	col.AgentUploaded = true
	if err != nil {
		return nil, err
	}
	stdin, err := job.stdin(ctx)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	out, _, err := client.Run(ctx, job.plat, remote, job.arts[0].SHA256, stdin, maxReport)
	col.Timings.Exec += time.Since(t0)
	return out, err
}

// samePlatform compares platforms as the state database keeps them:
// without the Windows shell, which is detected every round (a POSIX
// host's login shell counts: RunCached's command depends on it).
func samePlatform(a, b transport.Platform) bool {
	if a.OS == "windows" {
		a.Shell = ""
	}
	if b.OS == "windows" {
		b.Shell = ""
	}
	return a == b
}

// knownPlatform is the platform an earlier round detected on the host for
// this login; false when there is none or it cannot be read.
func (c *Collector) knownPlatform(ctx context.Context, cl config.Client) (transport.Platform, bool) {
	if c.s.Platforms == nil {
		return transport.Platform{}, false
	}
	p, ok, err := c.s.Platforms.Platform(ctx, cl.IP, cl.Port, cl.Username)
	if err != nil || !ok {
		return transport.Platform{}, false
	}
	return p, true
}

// rememberPlatform stores a newly detected platform for the next rounds.
// A failure to store costs the next round a detection, nothing more.
func (c *Collector) rememberPlatform(ctx context.Context, cl config.Client, p transport.Platform) {
	if c.s.Platforms != nil {
		_ = c.s.Platforms.SetPlatform(ctx, cl.IP, cl.Port, cl.Username, p)
	}
}

// externalConfig decodes an external source's settings (a JSON object)
// for the exec protocol's config; nil when there are none.
func externalConfig(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("want a JSON object: %w", err)
	}
	return cfg, nil
}

// mergeModuleConfig returns base with the entries of over replacing its
// own, without changing either.
func mergeModuleConfig(base, over map[string]json.RawMessage) map[string]json.RawMessage {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]json.RawMessage, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// readCursors returns the stored cursors of the host's modules (built-in
// and external) by name; a module
// without one, or whose cursor cannot be read, starts from its first-round
// window (the storages drop events they already hold).
func (c *Collector) readCursors(ctx context.Context, cl config.Client, plan sources.Plan) map[string]string {
	if c.s.Cursors == nil {
		return nil
	}
	var out map[string]string
	names := slices.Clone(plan.Builtins)
	for _, e := range plan.External {
		names = append(names, e.Source)
	}
	for _, name := range names {
		cur, ok, err := c.s.Cursors.Cursor(ctx, cl.IP, cl.Port, name)
		if err != nil || !ok || cur == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[name] = cur
	}
	return out
}

// keepCursors stores the cursors a verified report returned. A cursor that
// cannot be stored is not advanced: the next round reads those events
// again and the storages drop the duplicates.
func (c *Collector) keepCursors(ctx context.Context, cl config.Client, rep *protocol.Report) {
	if c.s.Cursors == nil {
		return
	}
	for _, m := range rep.Modules {
		if m.Cursor == "" || m.Error != "" {
			continue
		}
		_ = c.s.Cursors.SetCursor(ctx, cl.IP, cl.Port, m.Name, m.Cursor)
	}
}

// counterRates replaces the report's counters with their rates since the
// host's previous round (see rate.Apply) and keeps this round's totals
// for the next. Counters that cannot be read give no rate this round;
// totals that cannot be kept give none next round.
func (c *Collector) counterRates(ctx context.Context, hostIP string, hostPort int, rep *protocol.Report) {
	var prev map[string]rate.Counter
	if c.s.Counters != nil {
		prev, _, _ = c.s.Counters.Counters(ctx, hostIP, hostPort)
	}
	next := rate.Apply(prev, rep)
	if next != nil && c.s.Counters != nil {
		_ = c.s.Counters.SetCounters(ctx, hostIP, hostPort, next)
	}
}

// decode hands the raw output of modules whose source decodes it to the
// source plugin, and replaces it with the metrics the plugin returns.
func (c *Collector) decode(ctx context.Context, plat transport.Platform, rep *protocol.Report) {
	if c.s.Sources == nil {
		return
	}
	for i := range rep.Modules {
		m := &rep.Modules[i]
		d, ok := c.s.Sources.Decoder(m.Name)
		if !ok || m.Raw == "" {
			continue
		}
		got, err := d.Decode(ctx, source.Platform{OS: plat.OS, Arch: plat.Arch}, []byte(m.Raw))
		if err != nil {
			m.Error = fmt.Sprintf("decoding its output: %v", err)
			continue
		}
		for _, mt := range got.Metrics {
			m.Metrics = append(m.Metrics, protocol.Metric{Name: mt.Name, Value: mt.Value, Unit: mt.Unit, Labels: mt.Labels})
		}
	}
}

// repairExternal re-uploads external modules the agent refused for a bad
// checksum, so that the next round runs them.
func (c *Collector) repairExternal(ctx context.Context, client *transport.Client, plat transport.Platform,
	rep *protocol.Report, plan sources.Plan, arts []transport.Artifact) {
	for _, m := range rep.Modules {
		if !strings.HasPrefix(m.Error, protocol.ErrorChecksumPrefix) {
			continue
		}
		for i, e := range plan.External {
			if e.Source == m.Name {
				_, _ = client.Upload(ctx, plat, arts[i+1])
			}
		}
	}
}

// fillFromReport copies the report's host facts and metrics into col.
// Module errors do not fail the collection; they are listed in Error.
func fillFromReport(col *storage.Collection, rep *protocol.Report) {
	col.Status = storage.StatusOK
	col.Hostname, col.OS, col.Arch, col.AgentVersion = rep.Hostname, intern(rep.OS), intern(rep.Arch), intern(rep.AgentVersion)
	at := rep.CollectedAt.UTC()
	if at.IsZero() {
		at = time.Now().UTC()
	}
	// The samples are kept until the round is stored: sized once, not
	// grown (and left with spare room) by append.
	n := 0
	for _, m := range rep.Modules {
		n += len(m.Metrics)
	}
	col.Samples = slices.Grow(col.Samples, n)
	var moduleErrs []string
	for _, m := range rep.Modules {
		if m.Error != "" {
			moduleErrs = append(moduleErrs, m.Name+": "+m.Error)
		}
		var labels map[string]string
		for _, mt := range m.Metrics {
			// A file system's or an interface's metrics come one after
			// the other with equal labels: they share one map (decoding
			// gave each its own), which a round of 10,000 hosts feels.
			if !maps.Equal(mt.Labels, labels) {
				labels = mt.Labels
				internLabels(labels)
			}
			col.Samples = append(col.Samples, storage.Sample{Metric: intern(mt.Name), Value: mt.Value, Unit: intern(mt.Unit), Time: at, Labels: labels})
		}
		for _, e := range m.Events {
			col.Events = append(col.Events, storage.Event{
				Channel: e.Channel, RecordID: e.RecordID, Time: e.Time, Level: e.Level, Provider: e.Provider,
				EventID: e.EventID, Computer: e.Fields["computer"], Message: e.Message, Fields: e.Fields,
			})
		}
	}
	if len(moduleErrs) > 0 {
		col.Error = "module errors: " + joinCapped(moduleErrs, "; ", maxErrorText)
	}
}

// intern returns s as a canonical copy (unique.Make): the hosts of a
// round report the same metric names, units, label names and values
// (mounts, devices, interfaces) again and again, and the samples keep
// them until the round is stored; one copy each, instead of one per host
// as decoding gave, is what a round of 10,000 hosts holds.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// internLabels replaces, in place, the names and values of labels with
// their canonical copies (assigning to a key that is present replaces the
// stored key too; the map does not grow).
func internLabels(labels map[string]string) {
	for k, v := range labels {
		labels[intern(k)] = intern(v)
	}
}

func joinCapped(parts []string, sep string, max int) string {
	var out string
	for i, p := range parts {
		if i > 0 {
			out += sep
		}
		out += p
		if len(out) > max {
			return out[:max] + "…"
		}
	}
	return out
}

// Target is how to reach and log in to a client over SSH.
func Target(cl config.Client, useSSHAgent bool) transport.Target {
	t := transport.Target{
		Host: cl.IP, Port: cl.Port, User: cl.Username,
		Auth: transport.Auth{Password: cl.Password.Reveal(), UseAgent: useSSHAgent},
	}
	if cl.Key != "" {
		t.Auth.KeyFiles = []string{cl.Key}
	}
	return t
}

// StatusOf maps a pipeline error to the collection status.
func StatusOf(ctx context.Context, err error) storage.Status {
	statuses := map[transport.Kind]storage.Status{
		transport.Unreachable:     storage.StatusUnreachable,
		transport.AuthFailed:      storage.StatusAuthFailed,
		transport.HostKeyMismatch: storage.StatusHostKeyMismatch,
		transport.HostKeyUnknown:  storage.StatusHostKeyUnknown,
		transport.Timeout:         storage.StatusTimeout,
		transport.Cancelled:       storage.StatusCancelled,
	}
	if s, ok := statuses[transport.KindOf(err)]; ok {
		return s
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return storage.StatusTimeout
		}
		return storage.StatusCancelled
	}
	return storage.StatusAgentError
}
