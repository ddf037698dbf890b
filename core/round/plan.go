package round

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/agentstore"
	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/identity"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round/pool"
	"github.com/cscs-dev/cscs/core/round/remote"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/core/transport"
)

// Settings tune a round. DefaultSettings gives the defaults; the
// overlays' round block replaces those its caller did not set
// (ApplyOverlay).
type Settings struct {
	// Concurrency bounds the hosts worked on at once.
	Concurrency int
	// MaxHandshakes bounds the SSH connects and handshakes at once.
	MaxHandshakes int
	// MaxUploads bounds the hosts receiving the agent at once.
	MaxUploads int
	// ConnectTimeout, HandshakeTimeout and HostTimeout bound the TCP
	// connect, the SSH handshake with authentication, and one host from
	// connect to report.
	ConnectTimeout, HandshakeTimeout, HostTimeout time.Duration
	// CPUSample is the agent's CPU sampling window.
	CPUSample time.Duration
	// AlertRepeat is how often a rule that keeps firing is notified
	// again; 0 notifies every round.
	AlertRepeat time.Duration
	// MailRetry, when positive, is the wait before a notification that
	// failed temporarily is tried again (else 30s doubling up to 1h).
	MailRetry time.Duration
	// Interval, when positive, is the time between the starts of
	// consecutive rounds of a repeating run.
	Interval time.Duration
	// AcceptNewHostKeys records the key of a host seen for the first
	// time (trust on first use); a changed key is always refused.
	AcceptNewHostKeys bool
	// AuthlogFile, when set, is the absolute path on every Linux host of
	// the log file the authlog source reads.
	AuthlogFile string
}

// DefaultSettings are the settings of a round nobody tuned.
func DefaultSettings() Settings {
	return Settings{
		Concurrency:      pool.DefaultConcurrency,
		MaxHandshakes:    remote.DefaultMaxHandshakes,
		MaxUploads:       remote.DefaultMaxUploads,
		ConnectTimeout:   5 * time.Second,
		HandshakeTimeout: 10 * time.Second,
		HostTimeout:      60 * time.Second,
		CPUSample:        time.Second,
		AlertRepeat:      alert.DefaultRepeat,
	}
}

// ApplyOverlay lets the round block of the overlays replace the settings
// for which explicit (given the block's attribute name, such as
// "max_handshakes") is false.
func (s *Settings) ApplyOverlay(r overlay.Round, explicit func(setting string) bool) {
	ints := []struct {
		name string
		set  overlay.Setting[int]
		dst  *int
	}{
		{"concurrency", r.Concurrency, &s.Concurrency},
		{"max_handshakes", r.MaxHandshakes, &s.MaxHandshakes},
		{"max_uploads", r.MaxUploads, &s.MaxUploads},
	}
	for _, i := range ints {
		if i.set.Set && !explicit(i.name) {
			*i.dst = i.set.Value
		}
	}
	durations := []struct {
		name string
		set  overlay.Setting[time.Duration]
		dst  *time.Duration
	}{
		{"connect_timeout", r.ConnectTimeout, &s.ConnectTimeout},
		{"handshake_timeout", r.HandshakeTimeout, &s.HandshakeTimeout},
		{"host_timeout", r.HostTimeout, &s.HostTimeout},
		{"cpu_sample", r.CPUSample, &s.CPUSample},
		{"alert_repeat", r.AlertRepeat, &s.AlertRepeat},
		{"interval", r.Interval, &s.Interval},
	}
	for _, d := range durations {
		if d.set.Set && !explicit(d.name) {
			*d.dst = d.set.Value
		}
	}
}

// Check refuses settings a round cannot run with, naming each setting
// as name gives it ("concurrency", "max_handshakes", …: the overlay's
// round attributes, and "mail_retry_after", "authlog_file").
func (s Settings) Check(name func(setting string) string) error {
	for _, c := range []struct {
		setting string
		n       int
	}{{"concurrency", s.Concurrency}, {"max_handshakes", s.MaxHandshakes}, {"max_uploads", s.MaxUploads}} {
		if c.n < 1 {
			return fmt.Errorf("%s %d: want 1 or more", name(c.setting), c.n)
		}
	}
	for _, c := range []struct {
		setting string
		d       time.Duration
		// zero is allowed; want says what is.
		zero bool
		want string
	}{
		{"connect_timeout", s.ConnectTimeout, false, "a positive duration such as 10s"},
		{"handshake_timeout", s.HandshakeTimeout, false, "a positive duration such as 10s"},
		{"host_timeout", s.HostTimeout, false, "a positive duration such as 10s"},
		{"mail_retry_after", s.MailRetry, true, "a positive duration such as 5m"},
		{"alert_repeat", s.AlertRepeat, true, "0 (every round) or a positive duration such as 4h"},
		{"interval", s.Interval, true, "0 (one round) or a positive duration such as 5m"},
	} {
		if c.d < 0 || c.d == 0 && !c.zero {
			return fmt.Errorf("%s %s: want %s", name(c.setting), c.d, c.want)
		}
	}
	if s.CPUSample < 0 || s.CPUSample > time.Minute {
		return fmt.Errorf("%s %s: want a duration between 0 and 1m", name("cpu_sample"), s.CPUSample)
	}
	if s.AuthlogFile != "" && !strings.HasPrefix(s.AuthlogFile, "/") {
		return fmt.Errorf("%s %q is not an absolute path; give the file's path on the hosts", name("authlog_file"), s.AuthlogFile)
	}
	return nil
}

// moduleConfig is the per-module settings every host is asked for.
func (s Settings) moduleConfig() (map[string]json.RawMessage, error) {
	if s.AuthlogFile == "" {
		return nil, nil
	}
	raw, err := json.Marshal(map[string]string{"file": s.AuthlogFile})
	if err != nil {
		return nil, fmt.Errorf("encode the authlog file: %w", err)
	}
	return map[string]json.RawMessage{"authlog": raw}, nil
}

// Environment is where a round finds what is not configuration: the
// core's data directory, the agents, the plugins and the default
// database.
type Environment struct {
	// Version is the core's version, given to built-in plugins.
	Version string
	// DataDir holds the core key, known_hosts, the state database and the
	// spool.
	DataDir string
	// AgentDir holds cscs-agent-<os>-<arch>; empty for the default
	// (agentstore.DefaultDir).
	AgentDir string
	// PluginsDir holds the installed plugins.
	PluginsDir string
	// DB is the built-in storage's database (a SQLite path or a
	// postgres:// DSN), used when the overlays have no storage blocks.
	DB string
	// State is the core's state database (see core/state): a SQLite path
	// or a postgres:// DSN, which several cores may share; empty for
	// state.db in DataDir.
	State string
	// UseSSHAgent offers the keys of the ssh-agent at $SSH_AUTH_SOCK.
	UseSSHAgent bool
	// InProcessPlugins runs the built-in plugins inside the core
	// (benchmarks, debugging).
	InProcessPlugins bool
	// Logger receives plugin logs.
	Logger hclog.Logger
}

// StateTarget is the state database that rounds open: Env.State, or
// state.db in DataDir when it is empty.
func (e Environment) StateTarget() string {
	if e.State != "" {
		return e.State
	}
	return state.Path(e.DataDir)
}

// Plan is one round, ready to run as many times as wanted: the
// configuration, the settings, the core's identity and host keys, and
// what the overlays decide per host (sources, module settings, rules,
// routes) compiled once.
type Plan struct {
	Config   *Config
	Settings Settings
	Env      Environment
	// Identity is the core's key: reports are encrypted to it, and the
	// spool too.
	Identity *age.X25519Identity
	// CreatedIdentity is set when NewPlan created the key.
	CreatedIdentity bool

	hostKeys     *transport.HostKeys
	agents       *agentstore.Store
	moduleConfig map[string]json.RawMessage
	policy       *hostPolicy
	overlayRules *overlayRules
	storages     []pipeline.StorageInstance
	redact       func(string) string
}

// NewPlan checks settings against the configuration and prepares what
// every round of the plan shares. An error wrapping ErrInvalid is a fault
// of the configuration or the settings; others are of the environment
// (the data directory, the key).
func NewPlan(cfg *Config, settings Settings, env Environment) (*Plan, error) {
	if env.Logger == nil {
		env.Logger = hclog.NewNullLogger()
	}
	if err := settings.Check(func(s string) string { return s }); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p := &Plan{Config: cfg, Settings: settings, Env: env, redact: cfg.Redactor()}
	var err error
	if p.moduleConfig, err = settings.moduleConfig(); err != nil {
		return nil, err
	}
	if p.storages, err = overlayStorages(cfg.Overlay); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if cfg.Overlay != nil {
		if p.policy, err = newHostPolicy(cfg.Overlay, p.moduleConfig); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		p.overlayRules = newOverlayRules(cfg.Overlay, cfg.Sources)
	}
	p.Identity, p.CreatedIdentity, err = identity.LoadOrCreate(env.DataDir)
	if err != nil {
		return nil, fmt.Errorf("core key: %w", err)
	}
	if p.hostKeys, err = transport.NewHostKeys(filepath.Join(env.DataDir, "known_hosts"), settings.AcceptNewHostKeys); err != nil {
		return nil, err
	}
	if env.AgentDir != "" {
		p.agents = agentstore.New(env.AgentDir)
	} else {
		p.agents = agentstore.New(agentstore.DefaultDir())
	}
	return p, nil
}

// Storages names where the rounds of the plan are stored: the overlays'
// storage blocks, or the built-in storage of Environment.DB.
func (p *Plan) Storages() string {
	if len(p.storages) == 0 {
		return pipeline.DisplayName(p.Env.DB)
	}
	labels := make([]string, len(p.storages))
	for i, in := range p.storages {
		labels[i] = in.Plugin + " " + in.Name
	}
	return strings.Join(labels, ", ")
}

// pipelineOptions are the options of the round's plugins.
func (p *Plan) pipelineOptions() pipeline.Options {
	return pipeline.Options{
		Version: p.Env.Version, PluginsDir: p.Env.PluginsDir, DB: p.Env.DB, InProcess: p.Env.InProcessPlugins,
		Storages: p.storages, Declared: p.Config.Declared(), Logger: p.Env.Logger,
	}
}

// overlayStorages are the overlay's storage blocks for the pipeline.
func overlayStorages(ov *overlay.Overlay) ([]pipeline.StorageInstance, error) {
	if ov == nil {
		return nil, nil
	}
	var out []pipeline.StorageInstance
	for _, in := range ov.Storages {
		raw, err := in.JSON()
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", in.Name, err)
		}
		out = append(out, pipeline.StorageInstance{Plugin: in.Plugin, Name: in.Name, Config: raw, LeftOut: in.LeftOut})
	}
	return out, nil
}

// StorageInstances are the overlays' storage blocks, for `cscs db init`
// and `cscs db prune`; none when the overlays have none.
func (c *Config) StorageInstances() ([]pipeline.StorageInstance, error) {
	return overlayStorages(c.Overlay)
}
